using Microsoft.Data.Sqlite;
using Wes.Tests.Support;
using Xunit;

namespace Wes.Tests.Providers.Slurm;

/// <summary>When a Slurm run shows RUNNING, and which of its ends the retry policy may try again, against a real cluster.</summary>
[Collection(SlurmCollection.Name)]
public sealed class SlurmRunStateTests(SlurmCluster cluster) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly string _dataDir = TempDirectory.Create("wes-slurm-state");

    public void Dispose() => TempDirectory.Delete(_dataDir);

    private static async Task<IReadOnlyList<string>> SystemLogsAsync(WesClient client, string runId) =>
        (await client.GetJsonAsync($"/runs/{runId}"))["run_log"]!["system_logs"]!.AsArray().Select(l => l!.GetValue<string>()).ToList();

    private async Task<string?> JobStateAsync(string jobId) =>
        (await cluster.AllJobsAsync()).Select(l => l.Split('|')).FirstOrDefault(p => p[0] == jobId)?[1];

    [Fact]
    public async Task A_run_whose_job_waits_in_the_queue_is_initializing_with_its_handle_and_running_once_the_job_starts()
    {
        // Both nodes filled by jobs of the test's own, so the run's job can only wait.
        var fillers = new List<string>();
        foreach (var node in new[] { "n1", "n2" })
        {
            var (code, output) = await cluster.SlurmAsync("sbatch", "--parsable", "--job-name=filler", "--nodelist=" + node, "--cpus-per-task=2",
                "--partition=" + SlurmCluster.Partition, "--output=/dev/null", "--wrap=sleep 300");
            Assert.Equal(0, code);
            fillers.Add(output.Trim().Split(';')[0]);
        }

        try
        {
            await ProcessTable.WaitUntilAsync(async () => (await Task.WhenAll(fillers.Select(JobStateAsync))).All(s => s == "RUNNING"),
                Timeout, "the filler jobs to take both nodes");
            using var host = await HostProcess.StartAsync(cluster.ServerEnvironment(_dataDir));
            using var client = SlurmCluster.Client(host);
            var runId = await client.SubmitAsync(RunRequestBuilder.ForExample("sleep", "sleep.cwl", "v1.2").With("workflow_params", """{"seconds": 30}"""));
            var jobId = await SlurmCluster.JobIdAsync(client, runId, Timeout);
            // The tasks show what the poller last saw: once it says PENDING, the run has been followed a round at least.
            await ProcessTable.WaitUntilAsync(async () => (await client.GetJsonAsync($"/runs/{runId}/tasks"))["task_logs"]!.AsArray()
                .Any(t => t!["system_logs"]!.AsArray().Any(l => l!.GetValue<string>().StartsWith($"Slurm job {jobId} is PENDING", StringComparison.Ordinal))), Timeout, "the poller to see the job pending");

            Assert.Equal("INITIALIZING", await client.StateAsync(runId));

            await cluster.SlurmAsync("scancel", [.. fillers]);
            await client.WaitForAsync(runId, "RUNNING", Timeout);
            Assert.Equal("RUNNING", await JobStateAsync(jobId));
            using (await client.PostJsonAsync($"/runs/{runId}/cancel", "{}"))
            {
            }

            Assert.Equal("CANCELED", await client.WaitForTerminalAsync(runId, Timeout));
        }
        finally
        {
            await cluster.SlurmAsync("scancel", [.. fillers]);
        }
    }

    [Fact]
    public async Task A_run_whose_job_slurm_no_longer_knows_is_not_retried_even_with_attempts_left()
    {
        var environment = cluster.ServerEnvironment(_dataDir);
        environment["WES_MAX_ATTEMPTS"] = "3";
        environment["WES_LEASE_SECONDS"] = "3";
        string runId, jobId;
        using (var host = await HostProcess.StartAsync(environment))
        {
            using var client = SlurmCluster.Client(host);
            runId = await client.SubmitAsync(RunRequestBuilder.ForExample("sleep", "sleep.cwl", "v1.2"));
            await client.WaitForAsync(runId, "RUNNING", Timeout);
            jobId = await SlurmCluster.JobIdAsync(client, runId, Timeout);
            host.Signal("KILL");
            await host.WaitForExitAsync(Timeout);
        }

        try
        {
            // As if the controller had forgotten the job (past MinJobAge, no accounting): the handle names a job it never had.
            await using (var database = new SqliteConnection($"Data Source={Path.Combine(_dataDir, "wes.db")};Pooling=False"))
            {
                await database.OpenAsync();
                await using var update = database.CreateCommand();
                update.CommandText = "UPDATE runs SET provider_handle = 'slurm:987650' WHERE run_id = $id";
                update.Parameters.AddWithValue("$id", runId);
                Assert.Equal(1, await update.ExecuteNonQueryAsync());
            }

            using var restarted = await HostProcess.StartAsync(environment);
            using var wes = SlurmCluster.Client(restarted);

            Assert.Equal("SYSTEM_ERROR", await wes.WaitForTerminalAsync(runId, Timeout));
            Assert.Contains(await SystemLogsAsync(wes, runId), l => l.Contains("Slurm job 987650 is no longer known to Slurm", StringComparison.Ordinal));
            // Not retried: no second job was submitted, and the first was not canceled as an earlier attempt's leftover.
            Assert.Single(await cluster.AllJobsAsync(), l => l.EndsWith("|wes-" + runId, StringComparison.Ordinal));
            // (It may since have failed: the run's end removed the scratch folder the orphaned job was using.)
            Assert.DoesNotContain("CANCEL", await JobStateAsync(jobId) ?? "gone", StringComparison.Ordinal);
        }
        finally
        {
            await cluster.SlurmAsync("scancel", jobId);
        }
    }
}
