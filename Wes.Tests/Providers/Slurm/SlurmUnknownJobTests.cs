using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Providers;
using Wes.Providers.Slurm;
using Wes.Runs;
using Wes.Tests.Support;
using Xunit;

namespace Wes.Tests.Providers.Slurm;

/// <summary>A handle whose job the cluster does not know, as after a restart long after the job ended.</summary>
[Collection(SlurmCollection.Name)]
public sealed class SlurmUnknownJobTests(SlurmCluster cluster)
{
    [Fact]
    public async Task Following_a_job_slurm_does_not_know_ends_in_a_system_error_that_says_so()
    {
        using var factory = new WesApplicationFactory(provider: "Slurm", workers: 0, settings: new Dictionary<string, string?>
        {
            ["Wes:Slurm:ConfigPath"] = cluster.ConfigPath, ["Wes:Slurm:PollSeconds"] = "0.2",
        });
        var provider = factory.Service<SlurmProvider>();
        var engine = factory.Service<EngineCatalog>().Registered.First();
        var run = new Run { RunId = "unknown-job", Provider = SlurmProvider.ProviderName, Engine = engine.Name };
        var request = new ExecutionRequest(run, new RunWorkspace(factory.RunsDir, run.RunId), engine, new Dictionary<string, string>());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var result = await provider.FollowAsync(request, "slurm:987654", CancellationToken.None, timeout.Token);

        Assert.Equal(ExecutionOutcome.SystemError, result.Outcome);
        Assert.Contains("Slurm job 987654 is no longer known to Slurm", result.Message, StringComparison.Ordinal);
        Assert.Contains("the run's outcome is unknown", result.Message, StringComparison.Ordinal);
    }
}
