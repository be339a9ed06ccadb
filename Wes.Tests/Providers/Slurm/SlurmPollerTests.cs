using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Providers;
using Wes.Providers.Slurm;
using Wes.Runs;
using Wes.Tests.Support;
using Xunit;

namespace Wes.Tests.Providers.Slurm;

/// <summary>
/// The job poller against stand-in Slurm commands (shell scripts in Wes:Slurm:BinDir that answer as a controller
/// would, and note each call), for answers a real cluster gives only rarely.
/// </summary>
public sealed class SlurmPollerTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _bin = TempDirectory.Create("wes-slurm-bin");

    public void Dispose() => TempDirectory.Delete(_bin);

    private string CallsPath => Path.Combine(_bin, "calls.log");

    /// <summary>Job <see cref="RunningJob"/> runs while this file exists.</summary>
    private string RunningPath => Path.Combine(_bin, "running");

    /// <summary>A job squeue lists as RUNNING while <see cref="RunningPath"/> exists: what keeps the poller's rounds going.</summary>
    private const string RunningJob = "999";

    /// <summary>
    /// squeue lists every job asked for as COMPLETED (but <see cref="RunningJob"/>) with the given comment, each line
    /// <paramref name="copies"/> times, and notes each call.
    /// </summary>
    private async Task WriteCommandsAsync(string comment, int copies)
    {
        await WriteScriptAsync("squeue", $$"""
            echo "squeue $*" >> '{{CallsPath}}'
            ids=''
            for a in "$@"; do case "$a" in --jobs=*) ids=${a#--jobs=};; esac; done
            for id in $(printf '%s' "$ids" | tr ',' ' '); do
              state=COMPLETED; if [ "$id" = {{RunningJob}} ] && [ -e '{{RunningPath}}' ]; then state=RUNNING; fi
              i=0; while [ $i -lt {{copies}} ]; do echo "$id|$state|None|n1|{{comment}}|step"; i=$((i+1)); done
            done
            """);
        await WriteScriptAsync("scontrol", $$"""
            echo "scontrol $*" >> '{{CallsPath}}'
            [ "$1" = show ] && echo "JobId=$4 JobName=step JobState=COMPLETED Reason=None ExitCode=0:0 NodeList=n1"
            exit 0
            """);
    }

    private async Task WriteScriptAsync(string name, string body)
    {
        var path = Path.Combine(_bin, name);
        await File.WriteAllTextAsync(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private int Calls(string prefix) => File.Exists(CallsPath) ? File.ReadAllLines(CallsPath).Count(l => l.StartsWith(prefix, StringComparison.Ordinal)) : 0;

    private int DetailCalls() => Calls("scontrol show job");

    [Fact]
    public async Task A_job_squeue_lists_twice_is_still_seen_to_end()
    {
        await WriteCommandsAsync("(null)", copies: 2);
        var options = Options.Create(new WesOptions { Slurm = new SlurmOptions { BinDir = _bin, PollSeconds = 0.1 } });
        var poller = new SlurmJobPoller(new SlurmCommands(options), options, NullLogger<SlurmJobPoller>.Instance);
        using var timeout = new CancellationTokenSource(Timeout);

        var job = await poller.WaitForEndAsync("41", timeout.Token);

        Assert.Equal(("41", "COMPLETED", 0), (job.JobId, job.State, job.ExitCodeNumber!.Value));
    }

    [Fact]
    public async Task Ended_jobs_of_a_run_are_not_asked_about_again_once_the_poller_has_forgotten_them()
    {
        await WriteCommandsAsync("wes-run:thrash", copies: 1);
        using var factory = new WesApplicationFactory(provider: "Slurm", workers: 0, settings: new Dictionary<string, string?>
        {
            ["Wes:Slurm:BinDir"] = _bin, ["Wes:Slurm:PollSeconds"] = "0.1",
        });
        var provider = factory.Service<SlurmProvider>();
        var poller = factory.Service<SlurmJobPoller>();
        poller.KeptEnded = 4;
        var engine = factory.Service<EngineCatalog>().Registered.First();
        var run = new Run { RunId = "thrash", Provider = SlurmProvider.ProviderName, Engine = engine.Name };
        var workspace = new RunWorkspace(factory.RunsDir, run.RunId);
        Directory.CreateDirectory(workspace.EngineDir);
        var ids = Enumerable.Range(101, 20).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        await File.WriteAllLinesAsync(Path.Combine(workspace.EngineDir, "slurm-jobs.txt"), ids);
        var request = new ExecutionRequest(run, workspace, engine, new Dictionary<string, string>());
        int Ended() => provider.ReadTasks(request).Count(t => t.TaskId.StartsWith("slurm-", StringComparison.Ordinal) && t.ExitCode == 0);

        await ProcessTable.WaitUntilAsync(() => Ended() == ids.Count, Timeout, "every job of the run to show as ended");
        var calls = DetailCalls();
        Assert.Equal(0, poller.TrackedCount);
        Assert.Contains(ids, id => poller.Latest(id) is null);

        // Another job keeps the rounds going: a forgotten job asked about again would be in one of them.
        await File.WriteAllTextAsync(RunningPath, "");
        using var timeout = new CancellationTokenSource(Timeout);
        var running = poller.WaitForEndAsync(RunningJob, timeout.Token);
        Assert.Equal(ids.Count, Ended());
        var rounds = Calls("squeue");
        await ProcessTable.WaitUntilAsync(() => Calls("squeue") >= rounds + 3, Timeout, "three more poll rounds");
        Assert.Equal(ids.Count, Ended());
        await ProcessTable.WaitUntilAsync(() => Calls("squeue") >= rounds + 6, Timeout, "three more poll rounds");

        Assert.Equal(ids.Count, calls);
        Assert.Equal(calls, DetailCalls());
        File.Delete(RunningPath);
        Assert.Equal("COMPLETED", (await running).State);
    }

    [Fact]
    public async Task A_start_submits_nothing_when_squeue_cannot_list_what_an_earlier_attempt_left()
    {
        await WriteScriptAsync("squeue", "echo 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)' >&2; exit 1");
        await WriteScriptAsync("sbatch", $"echo \"sbatch $*\" >> '{CallsPath}'; echo 77");
        using var factory = new WesApplicationFactory(provider: "Slurm", workers: 0, settings: new Dictionary<string, string?>
        {
            ["Wes:Slurm:BinDir"] = _bin, ["Wes:Slurm:PollSeconds"] = "0.1",
        });
        var engine = factory.Service<EngineCatalog>().Registered.First();
        var run = new Run { RunId = "no-second-job", Provider = SlurmProvider.ProviderName, Engine = engine.Name };
        var request = new ExecutionRequest(run, new RunWorkspace(factory.RunsDir, run.RunId), engine, new Dictionary<string, string>());

        var error = await Assert.ThrowsAsync<SlurmUnavailableException>(() =>
            factory.Service<SlurmProvider>().StartAsync(request, new PreparedWork(["true"], ["sbatch", "--wrap=true"]), CancellationToken.None));

        Assert.Contains("so no job was submitted", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(CallsPath), "sbatch was not called");
    }

    [Fact]
    public void Many_job_ids_are_asked_about_in_several_squeue_calls_each_within_the_argument_limit()
    {
        var ids = Enumerable.Range(100_000_000, 20_000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();

        var chunks = SlurmJobPoller.Chunks(ids, SlurmJobPoller.MaxJobsArgument).ToList();

        Assert.True(chunks.Count > 1);
        Assert.All(chunks, c => Assert.True(string.Join(",", c).Length <= SlurmJobPoller.MaxJobsArgument));
        Assert.Equal(ids, chunks.SelectMany(c => c));
    }

    [Fact]
    public async Task A_run_folder_listing_thousands_of_job_ids_is_read_only_up_to_the_cap()
    {
        var root = TempDirectory.Create("wes-slurm-list");
        try
        {
            var workspace = new RunWorkspace(root, "flood");
            Directory.CreateDirectory(workspace.EngineDir);
            await File.WriteAllLinesAsync(Path.Combine(workspace.EngineDir, "slurm-jobs.txt"),
                Enumerable.Range(1, 20_000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));

            Assert.Equal(SlurmJobScript.MaxSubmittedJobs, SlurmJobScript.SubmittedJobs(workspace).Count);
        }
        finally
        {
            TempDirectory.Delete(root);
        }
    }
}
