using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Providers;
using Wes.Providers.Slurm;
using Wes.Runs;
using Wes.Tests.Support;
using Xunit;

namespace Wes.Tests.Providers.Slurm;

/// <summary>Jobs an earlier attempt of a run left on the cluster, met by the next attempt's start.</summary>
[Collection(SlurmCollection.Name)]
public sealed class SlurmLeftoverTests(SlurmCluster cluster)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static ExecutionRequest Request(WesApplicationFactory factory, string runId)
    {
        var engine = factory.Service<EngineCatalog>().Registered.First();
        var run = new Run { RunId = runId, Provider = SlurmProvider.ProviderName, Engine = engine.Name };
        var workspace = new RunWorkspace(factory.RunsDir, runId);
        Directory.CreateDirectory(workspace.EngineDir);
        return new ExecutionRequest(run, workspace, engine, new Dictionary<string, string>());
    }

    private static PreparedWork Work(string runId) =>
        new(["true"], ["sbatch", "--parsable", "--job-name=wes-" + runId, "--comment=wes-run:" + runId, "--partition=" + SlurmCluster.Partition, "--wrap=true"]);

    [Fact]
    public async Task A_step_job_an_earlier_attempt_left_has_ended_before_the_next_attempt_submits()
    {
        using var factory = new WesApplicationFactory(provider: "Slurm", workers: 0, settings: new Dictionary<string, string?>
        {
            ["Wes:Slurm:ConfigPath"] = cluster.ConfigPath, ["Wes:Slurm:PollSeconds"] = "0.2",
        });
        var request = Request(factory, "leftover-" + Guid.NewGuid().ToString("N")[..8]);
        // A step the earlier attempt's engine submitted: another name, the run's comment.
        var (code, output) = await cluster.SlurmAsync("sbatch", "--parsable", "--job-name=step", "--comment=wes-run:" + request.Run.RunId,
            "--partition=" + SlurmCluster.Partition, "--output=/dev/null", "--wrap=sleep 300");
        Assert.Equal(0, code);
        var step = output.Trim().Split(';')[0];
        await ProcessTable.WaitUntilAsync(async () => (await cluster.ActiveJobsAsync()).Contains(step), Timeout, "the step job to be queued");

        var handle = await factory.Service<SlurmProvider>().StartAsync(request, Work(request.Run.RunId), CancellationToken.None);

        Assert.StartsWith("slurm:", handle, StringComparison.Ordinal);
        Assert.DoesNotContain(step, await cluster.ActiveJobsAsync());
    }
}
