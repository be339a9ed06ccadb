using System.Text.Json.Nodes;
using Wes.Execution;
using Wes.Tests.Support;
using Xunit;

namespace Wes.Tests.Providers.Slurm;

/// <summary>What a workflow on the Slurm provider can do to the cluster and to other runs, against a real cluster.</summary>
[Collection(SlurmCollection.Name)]
public sealed class SlurmIsolationTests(SlurmCluster cluster) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly string _dataDir = TempDirectory.Create("wes-slurm-isolation");

    public void Dispose() => TempDirectory.Delete(_dataDir);

    private RunWorkspace Workspace(string runId) => new(Path.Combine(_dataDir, "runs"), runId);

    private async Task<bool> RunsOnANodeAsync(string jobId) =>
        (await cluster.AllJobsAsync()).Any(l => l.StartsWith(jobId + "|RUNNING|", StringComparison.Ordinal));

    [Fact]
    public async Task Canceling_a_run_whose_folder_lists_another_runs_job_leaves_that_job_running()
    {
        using var host = await HostProcess.StartAsync(cluster.ServerEnvironment(_dataDir));
        using var client = SlurmCluster.Client(host);
        var sleep = RunRequestBuilder.ForExample("sleep", "sleep.cwl", "v1.2");
        var victim = await client.SubmitAsync(sleep);
        var attacker = await client.SubmitAsync(sleep);
        await client.WaitForAsync(victim, "RUNNING", Timeout);
        await client.WaitForAsync(attacker, "RUNNING", Timeout);
        var victimJob = await SlurmCluster.JobIdAsync(client, victim, Timeout);
        await ProcessTable.WaitUntilAsync(() => RunsOnANodeAsync(victimJob), Timeout, "the other run's job to run");
        // What a workflow may write: its engine folder is writable inside the sandbox.
        await File.AppendAllTextAsync(Path.Combine(Workspace(attacker).EngineDir, "slurm-jobs.txt"), victimJob + "\n");

        using (await client.PostJsonAsync($"/runs/{attacker}/cancel", "{}"))
        {
        }

        Assert.Equal("CANCELED", await client.WaitForTerminalAsync(attacker, Timeout));
        Assert.True(await RunsOnANodeAsync(victimJob), "the other run's job still runs");
        Assert.Equal("RUNNING", await client.StateAsync(victim));
        using (await client.PostJsonAsync($"/runs/{victim}/cancel", "{}"))
        {
        }

        Assert.Equal("CANCELED", await client.WaitForTerminalAsync(victim, Timeout));
    }

    [Fact]
    public async Task A_run_folder_flooded_with_job_ids_does_not_stop_other_runs_from_being_followed()
    {
        using var host = await HostProcess.StartAsync(cluster.ServerEnvironment(_dataDir));
        using var client = SlurmCluster.Client(host);
        var flooder = await client.SubmitAsync(RunRequestBuilder.ForExample("sleep", "sleep.cwl", "v1.2"));
        await client.WaitForAsync(flooder, "RUNNING", Timeout);
        // 20,000 ids of ten digits are more than one argument may hold (128 KiB).
        await File.WriteAllLinesAsync(Path.Combine(Workspace(flooder).EngineDir, "slurm-jobs.txt"),
            Enumerable.Range(0, 20_000).Select(i => (1_000_000_000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var hello = await client.SubmitAsync(RunRequestBuilder.ForExample("hello", "hello.cwl", "v1.2"));

        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(hello, Timeout));
        using (await client.PostJsonAsync($"/runs/{flooder}/cancel", "{}"))
        {
        }

        Assert.Equal("CANCELED", await client.WaitForTerminalAsync(flooder, Timeout));
    }

    [Fact]
    public async Task An_engine_that_does_not_hand_its_steps_to_slurm_sees_neither_munge_nor_slurm_conf()
    {
        using var host = await HostProcess.StartAsync(cluster.ServerEnvironment(_dataDir));
        using var client = SlurmCluster.Client(host);
        var probe = $$"""
            cwlVersion: v1.2
            class: CommandLineTool
            baseCommand: [sh, -c]
            arguments:
              - "if [ -S '{{cluster.MungeSocket}}' ]; then echo munge:visible; else echo munge:hidden; fi; if [ -s '{{cluster.ConfigPath}}' ]; then echo conf:visible; else echo conf:hidden; fi"
            inputs: []
            stdout: probe.txt
            outputs:
              probe: {type: stdout}
            """;
        var request = new RunRequestBuilder().WithoutAttachments().WithAttachment("probe.cwl", probe)
            .With("workflow_url", "probe.cwl").With("workflow_type_version", "v1.2").With("workflow_params", "{}");

        var runId = await client.SubmitAsync(request);

        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId, Timeout));
        var written = Directory.GetFiles(Workspace(runId).Root, "probe.txt", SearchOption.AllDirectories);
        Assert.NotEmpty(written);
        Assert.Equal(["munge:hidden", "conf:hidden"], (await File.ReadAllLinesAsync(written[0])).Where(l => l.Length > 0));
    }
}
