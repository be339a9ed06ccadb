using System.Net;
using System.Text.Json.Nodes;
using Wes.Execution;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>
/// Runs that ended longer ago than WES_RETENTION_DAYS lose their files but keep their record (and, by default, their
/// logs); the RunLog says so and their outputs answer 410. Recent and running runs keep everything; links lead nowhere.
/// </summary>
public sealed class RetentionTests : IDisposable
{
    private static readonly TimeSpan LongAgo = TimeSpan.FromDays(30);
    private readonly string _outside = TempDirectory.Create("wes-retention-outside");

    public void Dispose() => TempDirectory.Delete(_outside);

    private static WesApplicationFactory Factory(bool keepLogs = true, int batchSize = 200, int workers = 0) => new(workers: workers, settings: new Dictionary<string, string?>
    {
        ["Wes:Retention:Days"] = "7",
        ["Wes:Retention:KeepLogs"] = keepLogs ? "true" : "false",
        ["Wes:Retention:BatchSize"] = batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    [Fact]
    public async Task Sweep_RemovesAnOldRunsFiles_KeepsItsRecordAndLogs_SaysSoInTheRunLog_AndOutputsAnswerGone()
    {
        using var factory = Factory();
        using var wes = factory.CreateWesClient();
        var runId = await RetentionRuns.EndedAsync(factory, LongAgo);
        var root = Path.Combine(factory.RunsDir, runId);

        var sweep = await factory.Service<RunRetention>().SweepAsync(CancellationToken.None);

        Assert.Equal(new RetentionSweep(1, 0), sweep);
        Assert.All(["exe", "outputs", "tmp", "engine"], name => Assert.False(Directory.Exists(Path.Combine(root, name)), name));
        Assert.Equal("engine stdout", File.ReadAllText(Path.Combine(root, "stdout.log")));
        Assert.Equal("first attempt's stderr", File.ReadAllText(Path.Combine(root, "attempts", "1", "stderr.log")));
        // The task log outlived the engine folder it was in: the link became a copy.
        var taskLog = new FileInfo(Path.Combine(root, "tasks", RetentionRuns.TaskId, "stdout"));
        Assert.Null(taskLog.LinkTarget);
        Assert.Equal("what step one printed", File.ReadAllText(taskLog.FullName));

        var log = await wes.GetJsonAsync($"/runs/{runId}");
        Assert.Equal("COMPLETE", log["state"]!.GetValue<string>());
        var systemLogs = log["run_log"]!["system_logs"]!.AsArray().Select(line => line!.GetValue<string>()).ToList();
        Assert.Contains(systemLogs, line => line.StartsWith("Run files removed at ", StringComparison.Ordinal) && line.EndsWith("the logs were kept.", StringComparison.Ordinal));
        Assert.NotNull(await RetentionRuns.FilesRemovedAtAsync(factory, runId));

        await AssertGoneAsync(wes, $"/runs/{runId}/outputs/result.txt", "retention");
        await AssertGoneAsync(wes, $"/runs/{runId}/outputs", "retention");
        Assert.Equal("engine stdout", await TextAsync(wes, $"/runs/{runId}/stdout"));
        Assert.Equal("first attempt's stderr", await TextAsync(wes, $"/runs/{runId}/attempts/1/stderr"));
        Assert.Equal("what step one printed", await TextAsync(wes, $"/runs/{runId}/tasks/{RetentionRuns.TaskId}/stdout"));
    }

    [Fact]
    public async Task Sweep_LeavesARecentRunAndARunningRunAsTheyAre()
    {
        using var factory = Factory(workers: 1);
        using var wes = factory.CreateWesClient();
        var recent = await RetentionRuns.EndedAsync(factory, TimeSpan.FromDays(6));
        var running = await wes.SubmitAsync(new RunRequestBuilder().With("tags", """{"wes.mock.delay_ms": "60000"}"""));
        await wes.WaitForAsync(running, "RUNNING");

        var sweep = await factory.Service<RunRetention>().SweepAsync(CancellationToken.None);

        Assert.Equal(new RetentionSweep(0, 0), sweep);
        Assert.Equal("RUNNING", await wes.StateAsync(running));
        Assert.True(File.Exists(Path.Combine(factory.RunsDir, recent, "outputs", "result.txt")));
        Assert.True(Directory.Exists(Path.Combine(factory.RunsDir, running, "exe")));
        Assert.Null(await RetentionRuns.FilesRemovedAtAsync(factory, recent));
        Assert.Null(await RetentionRuns.FilesRemovedAtAsync(factory, running));
        Assert.Equal("the result", await TextAsync(wes, $"/runs/{recent}/outputs/result.txt"));
    }

    [Fact]
    public async Task Sweep_WithoutKeptLogs_RemovesTheLogsToo_AndTheyAnswerGone()
    {
        using var factory = Factory(keepLogs: false);
        using var wes = factory.CreateWesClient();
        var runId = await RetentionRuns.EndedAsync(factory, LongAgo, state: "EXECUTOR_ERROR");

        await factory.Service<RunRetention>().SweepAsync(CancellationToken.None);

        Assert.False(Directory.Exists(Path.Combine(factory.RunsDir, runId)));
        var log = await wes.GetJsonAsync($"/runs/{runId}");
        Assert.Equal("EXECUTOR_ERROR", log["state"]!.GetValue<string>());
        Assert.Contains(log["run_log"]!["system_logs"]!.AsArray(), line => line!.GetValue<string>().EndsWith("the logs were removed too.", StringComparison.Ordinal));
        await AssertGoneAsync(wes, $"/runs/{runId}/stdout", "not kept");
        await AssertGoneAsync(wes, $"/runs/{runId}/stderr", "not kept");
        await AssertGoneAsync(wes, $"/runs/{runId}/attempts/1/stderr", "not kept");
        await AssertGoneAsync(wes, $"/runs/{runId}/tasks/{RetentionRuns.TaskId}/stdout", "not kept");
        await AssertGoneAsync(wes, $"/runs/{runId}/outputs/result.txt", "no longer available");
    }

    [Fact]
    public async Task Sweep_RemovesLinksThatLeadOutOfTheRunFolder_AndLeavesWhatTheyPointAt()
    {
        using var factory = Factory();
        var runId = await RetentionRuns.EndedAsync(factory, LongAgo);
        var root = Path.Combine(factory.RunsDir, runId);
        var precious = Path.Combine(_outside, "precious.txt");
        RetentionRuns.Write(precious, "keep me");
        RetentionRuns.Write(Path.Combine(_outside, "folder", "inside.txt"), "keep me too");
        // Planted by a workflow: a link to a folder, one to a file, a task log leading out, the scratch folder itself a link.
        Directory.CreateSymbolicLink(Path.Combine(root, "outputs", "linked-folder"), Path.Combine(_outside, "folder"));
        File.CreateSymbolicLink(Path.Combine(root, "outputs", "linked-file"), precious);
        File.CreateSymbolicLink(Path.Combine(root, "tasks", RetentionRuns.TaskId, "stderr"), precious);
        Directory.Delete(Path.Combine(root, "tmp"), recursive: true);
        Directory.CreateSymbolicLink(Path.Combine(root, "tmp"), _outside);

        Assert.Equal(new RetentionSweep(1, 0), await factory.Service<RunRetention>().SweepAsync(CancellationToken.None));

        Assert.Equal("keep me", File.ReadAllText(precious));
        Assert.Equal("keep me too", File.ReadAllText(Path.Combine(_outside, "folder", "inside.txt")));
        Assert.False(Path.Exists(Path.Combine(root, "tmp")));
        Assert.False(Path.Exists(Path.Combine(root, "outputs")));
        // A task log that led outside is dropped, never copied in.
        Assert.False(Path.Exists(Path.Combine(root, "tasks", RetentionRuns.TaskId, "stderr")));
    }

    [Fact]
    public async Task Sweep_GoesOnPastARunWhoseFilesCannotBeRemoved_AndRemovesThemOnceTheyCan()
    {
        // One run per batch: the stuck run must not hold back the next page either.
        using var factory = Factory(batchSize: 1);
        using var wes = factory.CreateWesClient();
        var stuck = await RetentionRuns.EndedAsync(factory, LongAgo + TimeSpan.FromDays(1));
        var other = await RetentionRuns.EndedAsync(factory, LongAgo);
        var undeletable = Path.Combine(factory.RunsDir, stuck, "outputs", "result.txt");
        SmallDisk.SetImmutable(undeletable, true);
        try
        {
            Assert.Equal(new RetentionSweep(1, 1), await factory.Service<RunRetention>().SweepAsync(CancellationToken.None));

            Assert.NotNull(await RetentionRuns.FilesRemovedAtAsync(factory, other));
            Assert.Null(await RetentionRuns.FilesRemovedAtAsync(factory, stuck));
            Assert.False(Directory.Exists(Path.Combine(factory.RunsDir, other, "outputs")));
            Assert.Equal("the result", await TextAsync(wes, $"/runs/{stuck}/outputs/result.txt"));
        }
        finally
        {
            SmallDisk.SetImmutable(undeletable, false);
        }

        Assert.Equal(new RetentionSweep(1, 0), await factory.Service<RunRetention>().SweepAsync(CancellationToken.None));
        Assert.NotNull(await RetentionRuns.FilesRemovedAtAsync(factory, stuck));
        var log = await wes.GetJsonAsync($"/runs/{other}");
        Assert.Single(log["run_log"]!["system_logs"]!.AsArray(), line => line!.GetValue<string>().StartsWith("Run files removed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARunThatEnds_LosesItsScratchAndEngineCachesAtOnce_WithoutRetention_AndKeepsItsOutputs()
    {
        var dataDir = TempDirectory.Create("wes-scratch-run");
        try
        {
            string runId;
            using (var submitOnly = new WesApplicationFactory(workers: 0, dataDir: dataDir))
            using (var wes = submitOnly.CreateWesClient())
            {
                runId = await wes.SubmitAsync(new RunRequestBuilder());
            }

            // What an engine leaves behind, planted before the run executes.
            var root = Path.Combine(dataDir, "runs", runId);
            RetentionRuns.Write(Path.Combine(root, "tmp", "home", ".cache", "pip", "wheel"), "cache");
            RetentionRuns.Write(Path.Combine(root, "engine", "jobstore", "job"), "toil job");
            RetentionRuns.Write(Path.Combine(root, "outputs", "result.txt"), "the result");

            using var executor = new WesApplicationFactory(workers: 1, dataDir: dataDir);
            using var client = executor.CreateWesClient();
            Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId));
            // The scratch goes after the end is recorded, one folder after another: wait for the last of them.
            await ProcessTable.WaitUntilAsync(
                () => !Directory.Exists(Path.Combine(root, "tmp")) && !Directory.Exists(Path.Combine(root, "engine", "jobstore")),
                TimeSpan.FromSeconds(30), "tmp/ and the job store removed");

            Assert.Equal("the result", File.ReadAllText(Path.Combine(root, "outputs", "result.txt")));
            Assert.True(File.Exists(Path.Combine(root, "stdout.log")));
            Assert.Null(await RetentionRuns.FilesRemovedAtAsync(executor, runId));
        }
        finally
        {
            TempDirectory.Delete(dataDir);
        }
    }

    [Fact]
    public void RemoveScratch_RemovesTmpAndEngineCaches_AndKeepsOutputsLogsAndTaskLogs_LinkedOnesMovedInPlace()
    {
        var runsDir = TempDirectory.Create("wes-scratch");
        try
        {
            var workspace = new RunWorkspace(runsDir, Guid.NewGuid().ToString());
            RetentionRuns.PlantFiles(workspace.Root);
            // Nextflow keeps its task logs in its work folder under tmp/.
            RetentionRuns.Write(Path.Combine(workspace.TmpDir, "work", "ab", ".command.err"), "task stderr");
            File.CreateSymbolicLink(workspace.TaskLogPath(RetentionRuns.TaskId, TaskLogStream.Stderr), Path.Combine(workspace.TmpDir, "work", "ab", ".command.err"));
            RetentionRuns.Write(Path.Combine(workspace.EngineDir, "jobstore", "job"), "toil job");
            RetentionRuns.Write(Path.Combine(workspace.ExeDir, ".snakemake", "metadata", "x"), "snakemake cache");
            // Nextflow publishes outputs as links into its work folder unless told to copy.
            RetentionRuns.Write(Path.Combine(workspace.TmpDir, "work", "cd", "report.txt"), "published");
            RetentionRuns.Write(Path.Combine(workspace.TmpDir, "work", "cd", "plots", "a.svg"), "<svg/>");
            File.CreateSymbolicLink(Path.Combine(workspace.OutputsDir, "report.txt"), Path.Combine(workspace.TmpDir, "work", "cd", "report.txt"));
            Directory.CreateSymbolicLink(Path.Combine(workspace.OutputsDir, "plots"), Path.Combine(workspace.TmpDir, "work", "cd", "plots"));

            RunFileRemoval.RemoveScratch(workspace);

            Assert.False(Directory.Exists(workspace.TmpDir));
            Assert.False(Directory.Exists(Path.Combine(workspace.EngineDir, "jobstore")));
            Assert.False(Directory.Exists(Path.Combine(workspace.ExeDir, ".snakemake")));
            Assert.Equal("the result", File.ReadAllText(Path.Combine(workspace.OutputsDir, "result.txt")));
            Assert.Equal("published", File.ReadAllText(Path.Combine(workspace.OutputsDir, "report.txt")));
            Assert.Equal("<svg/>", File.ReadAllText(Path.Combine(workspace.OutputsDir, "plots", "a.svg")));
            Assert.Null(new FileInfo(Path.Combine(workspace.OutputsDir, "report.txt")).LinkTarget);
            Assert.Equal("task stderr", File.ReadAllText(workspace.TaskLogPath(RetentionRuns.TaskId, TaskLogStream.Stderr)));
            Assert.Null(new FileInfo(workspace.TaskLogPath(RetentionRuns.TaskId, TaskLogStream.Stderr)).LinkTarget);
            // A log outside the scratch folders stays a link: nothing is copied that does not need to be.
            Assert.Equal("what step one printed", File.ReadAllText(workspace.TaskLogPath(RetentionRuns.TaskId, TaskLogStream.Stdout)));
            Assert.NotNull(new FileInfo(workspace.TaskLogPath(RetentionRuns.TaskId, TaskLogStream.Stdout)).LinkTarget);
            Assert.True(File.Exists(workspace.StdoutPath));
        }
        finally
        {
            TempDirectory.Delete(runsDir);
        }
    }

    [Fact]
    public void RemoveScratch_AScratchFolderReplacedByALinkToAnotherRun_MovesNothingOfThatRunIn()
    {
        var runsDir = TempDirectory.Create("wes-scratch-link");
        try
        {
            var victim = new RunWorkspace(runsDir, Guid.NewGuid().ToString());
            RetentionRuns.Write(Path.Combine(victim.OutputsDir, "secret.txt"), "another run's output");
            var workspace = new RunWorkspace(runsDir, Guid.NewGuid().ToString());
            RetentionRuns.PlantFiles(workspace.Root);
            // The workflow makes its engine cache a link to the other run, and links an output into it.
            Directory.CreateSymbolicLink(Path.Combine(workspace.ExeDir, ".nextflow"), victim.Root);
            File.CreateSymbolicLink(Path.Combine(workspace.OutputsDir, "stolen.txt"), Path.Combine(victim.OutputsDir, "secret.txt"));

            RunFileRemoval.RemoveScratch(workspace);

            Assert.Equal("another run's output", File.ReadAllText(Path.Combine(victim.OutputsDir, "secret.txt")));
            Assert.NotNull(new FileInfo(Path.Combine(workspace.OutputsDir, "stolen.txt")).LinkTarget);
            Assert.False(Directory.Exists(Path.Combine(workspace.ExeDir, ".nextflow")));
            Assert.True(Directory.Exists(victim.Root));
        }
        finally
        {
            TempDirectory.Delete(runsDir);
        }
    }

    private static async Task AssertGoneAsync(WesClient wes, string relative, string expected)
    {
        var error = await wes.GetJsonAsync(relative, HttpStatusCode.Gone);
        Assert.Equal(410, error["status_code"]!.GetValue<int>());
        Assert.Contains(expected, error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static async Task<string> TextAsync(WesClient wes, string relative)
    {
        using var response = await wes.GetAsync(relative);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {relative}: {(int)response.StatusCode} {text}");
        return text;
    }
}
