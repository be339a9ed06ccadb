using System.Text.Json.Nodes;
using Wes.Tests.Support;
using Xunit;

namespace Wes.Tests.Providers.Slurm;

/// <summary>
/// The Slurm provider against a real cluster (<see cref="SlurmCluster"/>): a real server process submits each run's
/// engine with sbatch, follows it, cancels it, and follows it again after being killed.
/// </summary>
[Collection(SlurmCollection.Name)]
public sealed class SlurmProviderTests(SlurmCluster cluster) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly string _dataDir = TempDirectory.Create("wes-slurm-runs");

    public void Dispose() => TempDirectory.Delete(_dataDir);

    private Dictionary<string, string> Environment(params (string Name, string Value)[] more)
    {
        var environment = cluster.ServerEnvironment(_dataDir);
        foreach (var (name, value) in more)
        {
            environment[name] = value;
        }

        return environment;
    }

    private static string JobId(JsonObject log) => SlurmCluster.JobIdIn(log) ?? throw new InvalidOperationException("system_logs name no Slurm job");

    private async Task<IReadOnlyList<string>> JobsNamedAsync(string runId) =>
        (await cluster.AllJobsAsync()).Where(line => line.EndsWith("|wes-" + runId, StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task Hello_cwl_runs_as_one_slurm_job_and_completes_with_its_outputs()
    {
        using var client = await cluster.SharedClientAsync();

        var runId = await client.SubmitAsync(RunRequestBuilder.ForExample("hello", "hello.cwl", "v1.2"));

        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId, Timeout));
        var log = await client.GetJsonAsync($"/runs/{runId}");
        Assert.NotEmpty(log["outputs"]!.AsObject());
        var jobId = JobId(log);
        Assert.Contains(log["run_log"]!["system_logs"]!.AsArray(), l => l!.GetValue<string>().StartsWith($"Slurm job {jobId} ended COMPLETED", StringComparison.Ordinal));
        Assert.Equal([$"{jobId}|COMPLETED"], (await JobsNamedAsync(runId)).Select(l => string.Join('|', l.Split('|')[..2])));
        var tasks = await client.GetJsonAsync($"/runs/{runId}/tasks");
        Assert.Contains(tasks["task_logs"]!.AsArray(), t => t!["id"]!.GetValue<string>() == "slurm-" + jobId);
    }

    [Fact]
    public async Task A_failing_workflow_ends_executor_error_with_its_exit_code_and_the_slurm_reason()
    {
        using var client = await cluster.SharedClientAsync();

        var runId = await client.SubmitAsync(RunRequestBuilder.ForExample("fail", "fail.cwl", "v1.2"));

        Assert.Equal("EXECUTOR_ERROR", await client.WaitForTerminalAsync(runId, Timeout));
        var log = await client.GetJsonAsync($"/runs/{runId}");
        Assert.NotEqual(0, log["run_log"]!["exit_code"]!.GetValue<int>());
        Assert.Contains(log["run_log"]!["system_logs"]!.AsArray(),
            l => l!.GetValue<string>().Contains("ended FAILED", StringComparison.Ordinal) && l.GetValue<string>().Contains("NonZeroExitCode", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_scancels_the_job_and_the_run_ends_canceled_with_nothing_left_in_squeue()
    {
        using var client = await cluster.SharedClientAsync();
        var runId = await client.SubmitAsync(RunRequestBuilder.ForExample("sleep", "sleep.cwl", "v1.2"));
        await client.WaitForAsync(runId, "RUNNING", Timeout);
        var jobId = JobId(await client.GetJsonAsync($"/runs/{runId}"));
        await ProcessTable.WaitUntilAsync(async () => (await JobsNamedAsync(runId)).Any(l => l.Contains("|RUNNING|", StringComparison.Ordinal)),
            Timeout, "the job runs on a node");

        using (await client.PostJsonAsync($"/runs/{runId}/cancel", "{}"))
        {
        }

        Assert.Equal("CANCELED", await client.WaitForTerminalAsync(runId, Timeout));
        Assert.DoesNotContain(jobId, await cluster.ActiveJobsAsync());
        Assert.Contains("|CANCELLED|", (await JobsNamedAsync(runId)).Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_executor_killed_while_its_job_runs_is_followed_again_after_the_restart_not_resubmitted()
    {
        var environment = Environment(("WES_LEASE_SECONDS", "3"));
        var request = RunRequestBuilder.ForExample("sleep", "sleep.cwl", "v1.2").With("workflow_params", """{"seconds": 12}""");
        string runId;
        using (var host = await HostProcess.StartAsync(environment))
        {
            using var client = SlurmCluster.Client(host);
            runId = await client.SubmitAsync(request);
            await client.WaitForAsync(runId, "RUNNING", Timeout);
            await ProcessTable.WaitUntilAsync(async () => (await JobsNamedAsync(runId)).Any(l => l.Contains("|RUNNING|", StringComparison.Ordinal)),
                Timeout, "the job runs on a node");

            host.Signal("KILL");
            await host.WaitForExitAsync(Timeout);
        }

        using var restarted = await HostProcess.StartAsync(environment);
        using var wes = SlurmCluster.Client(restarted);
        Assert.Equal("COMPLETE", await wes.WaitForTerminalAsync(runId, Timeout));
        // One job for the run, ever: the restarted executor followed it by its id.
        Assert.Single(await JobsNamedAsync(runId));
        var logs = (await wes.GetJsonAsync($"/runs/{runId}"))["run_log"]!["system_logs"]!.AsArray().Select(l => l!.GetValue<string>());
        Assert.Contains(logs, l => l.Contains("follows this run's work (slurm:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ready_reports_a_slurm_controller_that_does_not_answer()
    {
        var deadConfig = Path.Combine(_dataDir, "dead-slurm.conf");
        var config = await File.ReadAllTextAsync(cluster.ConfigPath);
        await File.WriteAllTextAsync(deadConfig, System.Text.RegularExpressions.Regex.Replace(config, @"SlurmctldPort=\d+", $"SlurmctldPort={LocalHttpServer.FreePort()}"));
        using var host = await HostProcess.StartAsync(Environment(("SLURM_CONF", deadConfig)));
        using var http = new HttpClient { BaseAddress = new Uri(host.BaseUrl!) };

        using var response = await http.GetAsync("/health/ready");

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var slurm = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["checks"]!["slurm"]!;
        Assert.Equal("Unhealthy", slurm["status"]!.GetValue<string>());
        Assert.Contains("does not answer", slurm["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
