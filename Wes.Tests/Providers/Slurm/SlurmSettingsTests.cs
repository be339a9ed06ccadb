using System.Net;
using Wes.Configuration;
using Wes.Providers.Slurm;
using Wes.Runs;
using Wes.Tests.Support;
using Xunit;

namespace Wes.Tests.Providers.Slurm;

/// <summary>What reaches sbatch from settings and tags, and how Slurm's answers are read; no cluster needed.</summary>
public sealed class SlurmSettingsTests
{
    [Fact]
    public async Task Slurm_tags_sbatch_could_not_take_are_refused_with_400_naming_each()
    {
        using var factory = new WesApplicationFactory(settings: new Dictionary<string, string?> { ["Wes:Slurm:Enabled"] = "true" });
        using var client = factory.CreateWesClient();
        var tags = """{"wes.slurm.cpus": "0", "wes.slurm.mem": "4G --wrap=x", "wes.slurm.time": "-t5", "wes.slurm.partition": "-p", "wes.slurm.nodes": "3"}""";

        using var response = await new RunRequestBuilder().WithTags(tags).SendAsync(client);

        var message = (await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest))["msg"]!.GetValue<string>();
        foreach (var tag in new[] { "wes.slurm.cpus", "wes.slurm.mem", "wes.slurm.time", "wes.slurm.partition", "wes.slurm.nodes" })
        {
            Assert.Contains($"tags: {tag} ", message, StringComparison.Ordinal);
        }

        Assert.Equal(0, await client.CountRunsAsync());
    }

    [Fact]
    public async Task A_run_asking_for_slurm_on_a_server_without_it_is_refused()
    {
        using var factory = new WesApplicationFactory();
        using var client = factory.CreateWesClient();

        using var response = await new RunRequestBuilder().WithTags("""{"wes.provider": "Slurm"}""").SendAsync(client);

        var message = (await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest))["msg"]!.GetValue<string>();
        Assert.Contains("wes.provider must name one of the providers runs may use here: Mock (WES_PROVIDERS)", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true", "Mock,Slurm", "slurm: provider Slurm")]
    [InlineData("false", "Mock", "none")]
    public async Task Service_info_names_the_providers_and_batch_systems_runs_may_use(string enabled, string providers, string batchSystems)
    {
        using var factory = new WesApplicationFactory(settings: new Dictionary<string, string?> { ["Wes:Slurm:Enabled"] = enabled });
        using var client = factory.CreateWesClient();

        var tags = (await client.GetJsonAsync("/service-info"))["tags"]!;

        Assert.Equal(providers, tags["providers"]!.GetValue<string>());
        Assert.StartsWith(batchSystems, tags["batch_systems"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Tags_override_the_settings_and_each_value_is_one_sbatch_option()
    {
        var settings = new SlurmOptions { Partition = "batch", Account = "lab", Cpus = 2, Mem = "4G", Time = "1:00:00" };
        var tags = new Dictionary<string, string> { [SlurmResources.CpusTag] = "8", [SlurmResources.TimeTag] = "2-00:00:00" };

        Assert.Equal(["--partition=batch", "--account=lab", "--time=2-00:00:00", "--cpus-per-task=8", "--mem=4G"], SlurmResources.Arguments(tags, settings));
    }

    [Fact]
    public void A_partition_tag_must_be_on_the_allow_list_when_there_is_one()
    {
        var settings = new SlurmOptions { AllowedPartitions = "short, long" };

        Assert.Empty(SlurmResources.TagProblems(new Dictionary<string, string> { [SlurmResources.PartitionTag] = "long" }, settings));
        Assert.Equal(["tags: wes.slurm.partition must be one of short, long."],
            SlurmResources.TagProblems(new Dictionary<string, string> { [SlurmResources.PartitionTag] = "gpu" }, settings));
    }

    [Fact]
    public void Bad_slurm_settings_are_each_reported_by_name_at_start_up()
    {
        var options = new WesOptions
        {
            Slurm = new SlurmOptions { Partition = "a b", Time = "forever", Mem = "lots", Cpus = 0, PollSeconds = 0, BinDir = "relative" },
        };

        var failures = new WesOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];

        foreach (var name in new[] { "WES_SLURM_PARTITION", "WES_SLURM_TIME", "WES_SLURM_MEM", "WES_SLURM_CPUS", "WES_SLURM_POLL", "WES_SLURM_BIN" })
        {
            Assert.Contains(failures, f => f.StartsWith(name + " ", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("COMPLETED", "0:0", ExecutionOutcome.Succeeded, 0)]
    [InlineData("FAILED", "3:0", ExecutionOutcome.Failed, 3)]
    [InlineData("OUT_OF_MEMORY", "0:125", ExecutionOutcome.Failed, 253)]
    [InlineData("TIMEOUT", "0:15", ExecutionOutcome.Failed, 143)]
    [InlineData("NODE_FAIL", "0:0", ExecutionOutcome.SystemError, 0)]
    [InlineData("PREEMPTED", "0:0", ExecutionOutcome.SystemError, 0)]
    [InlineData("CANCELLED", "0:9", ExecutionOutcome.SystemError, 137)]
    public void A_jobs_end_maps_onto_an_outcome_and_an_exit_code(string state, string exitCode, ExecutionOutcome outcome, int code)
    {
        var line = $"JobId=42 JobName=wes-run UserId=root(0) JobState={state} Reason=None Dependency=(null) ExitCode={exitCode} " +
            "NodeList=n2 BatchHost=n2 Command=/runs/x/engine/slurm-job.sh cwltool a b WorkDir=/runs/x/exe";

        var job = SlurmJob.FromScontrol(line)!;

        Assert.Equal(("42", outcome, code, "n2"), (job.JobId, job.Outcome, job.ExitCodeNumber!.Value, job.Nodes));
        Assert.True(job.Ended);
    }

    [Fact]
    public void A_job_still_queued_or_running_has_not_ended()
    {
        var pending = SlurmJob.FromSqueue("17|PENDING|Resources||wes-run:a|wes-a|b")!;

        Assert.Equal(("17", "Resources", "wes-a|b", "wes-run:a"), (pending.JobId, pending.Reason, pending.Name, pending.Comment));
        Assert.False(pending.Ended);
        Assert.False(SlurmJob.FromSqueue("17|RUNNING|None|n1|(null)|x")!.Ended);
    }

    [Fact]
    public void Only_an_executor_with_slurm_on_and_its_client_found_follows_slurm_runs()
    {
        var empty = TempDirectory.Create("wes-no-slurm-client");
        try
        {
            using var off = new WesApplicationFactory();
            using var missing = new WesApplicationFactory(settings: new Dictionary<string, string?> { ["Wes:Slurm:Enabled"] = "true", ["Wes:Slurm:BinDir"] = empty });
            using var on = new WesApplicationFactory(settings: new Dictionary<string, string?> { ["Wes:Slurm:Enabled"] = "true" });

            Assert.False(off.Service<SlurmProvider>().CanFollow);
            Assert.False(missing.Service<SlurmProvider>().CanFollow);
            Assert.True(on.Service<SlurmProvider>().CanFollow);
        }
        finally
        {
            TempDirectory.Delete(empty);
        }
    }

    [Fact]
    public void Only_a_slurm_handle_names_a_job()
    {
        Assert.Equal("123", SlurmProvider.JobId("slurm:123"));
        Assert.Null(SlurmProvider.JobId("slurm:12;rm"));
        Assert.Null(SlurmProvider.JobId("4242@1700000000"));
    }
}
