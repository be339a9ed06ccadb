using System.Text.Json.Nodes;
using Wes.Tests.Support;
using Xunit;

namespace Wes.Tests.Providers.Slurm;

/// <summary>Toil and Snakemake spreading one run's steps over the cluster as Slurm jobs of their own.</summary>
[Collection(SlurmCollection.Name)]
public sealed class SlurmEngineTests(SlurmCluster cluster)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(150);

    /// <summary>The Slurm jobs the run's tasks list, as their system log lines.</summary>
    private static async Task<List<string>> SlurmTaskLogsAsync(WesClient client, string runId) =>
        (await client.GetJsonAsync($"/runs/{runId}/tasks?page_size=100"))["task_logs"]!.AsArray().Where(t => t!["id"]!.GetValue<string>().StartsWith("slurm-", StringComparison.Ordinal))
            .SelectMany(t => t!["system_logs"]!.AsArray().Select(l => l!.GetValue<string>())).ToList();

    [Fact]
    public async Task A_toil_run_spreads_its_steps_over_both_slurm_nodes()
    {
        using var client = await cluster.SharedClientAsync();
        // The engine's own job takes a whole node (2 CPUs), so its steps can only run on the other one.
        var request = RunRequestBuilder.ForExample("scatter", "workflow.cwl", "v1.2").With("workflow_engine", "toil")
            .With("workflow_engine_parameters", """{"batchSystem": "slurm", "statePollingWait": "1", "defaultMemory": "256Mi", "defaultDisk": "256Mi"}""")
            .WithTags("""{"wes.slurm.cpus": "2"}""");

        var runId = await client.SubmitAsync(request);

        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId, Timeout));
        var log = await client.GetJsonAsync($"/runs/{runId}");
        var jobs = await SlurmTaskLogsAsync(client, runId);
        Assert.True(jobs.Count >= 3, "the engine's job and at least two steps: " + string.Join(" / ", jobs));
        Assert.Contains(jobs, j => j.Contains("COMPLETED on n1", StringComparison.Ordinal));
        Assert.Contains(jobs, j => j.Contains("COMPLETED on n2", StringComparison.Ordinal));
        Assert.NotEmpty(log["outputs"]!.AsObject());
    }

    [Fact]
    public async Task A_snakemake_run_submits_each_job_to_slurm()
    {
        using var client = await cluster.SharedClientAsync();
        var request = RunRequestBuilder.ForExample("snakemake", "Snakefile", "1.0").With("workflow_type", "SMK")
            .With("workflow_engine_parameters", """{"executor": "slurm", "cores": "2"}""");

        var runId = await client.SubmitAsync(request);

        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId, Timeout));
        var log = await client.GetJsonAsync($"/runs/{runId}");
        // The engine's job, then upper and count for two samples and the summary, each a job of its own.
        var jobs = await SlurmTaskLogsAsync(client, runId);
        Assert.True(jobs.Count(j => j.Contains("ended COMPLETED", StringComparison.Ordinal)) >= 6, string.Join(" / ", jobs));
        Assert.Contains("results/summary.txt", log["outputs"]!.AsObject().Select(o => o.Key));
    }
}
