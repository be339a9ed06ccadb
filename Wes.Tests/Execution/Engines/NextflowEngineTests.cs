using System.Text.Json.Nodes;
using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Execution.Engines.Nextflow;
using Wes.Tests.Support;

namespace Wes.Tests.Execution.Engines;

/// <summary>
/// Nextflow is not installed here (it is not packaged for this machine), so no run goes through it end to end. These
/// tests pin what the server hands Nextflow and what it reads back from Nextflow's own trace format.
/// </summary>
public sealed class NextflowEngineTests : IDisposable
{
    private readonly string _runs = TempDirectory.Create("wes-nextflow");
    private readonly NextflowEngine _engine = new();

    public void Dispose() => TempDirectory.Delete(_runs);

    [Fact]
    public void Command_IsAnArgumentListWithTheRunsFoldersAndTrace()
    {
        var workspace = new RunWorkspace(_runs, "run-1");
        var parameters = new Dictionary<string, string> { ["profile"] = "test,docker", ["queue_size"] = "4", ["stub_run"] = "true" };

        var arguments = _engine.BuildArguments(new EngineInvocation(workspace, Path.Combine(workspace.ExeDir, "main.nf"), parameters));

        Assert.Equal(
        [
            "-log", Path.Combine(workspace.EngineDir, "nextflow.log"),
            "run", Path.Combine(workspace.ExeDir, "main.nf"),
            "-params-file", workspace.ParamsPath,
            "-work-dir", Path.Combine(workspace.TmpDir, "work"),
            "-c", Path.Combine(workspace.EngineDir, "wes.config"),
            "-with-trace", Path.Combine(workspace.EngineDir, "trace.tsv"),
            "-ansi-log", "false",
            "-profile", "test,docker",
            "-queue-size", "4",
            "-stub-run",
        ], arguments);
    }

    [Fact]
    public async Task Config_AsksForARawTraceWithTheFieldsTheParserReads()
    {
        var workspace = new RunWorkspace(_runs, "run-2");

        await _engine.WriteSupportFilesAsync(workspace, CancellationToken.None);

        var config = await File.ReadAllTextAsync(Path.Combine(workspace.EngineDir, "wes.config"));
        Assert.Contains("raw = true", config, StringComparison.Ordinal);
        Assert.Contains($"fields = '{NextflowEngine.TraceFields}'", config, StringComparison.Ordinal);
    }

    [Fact]
    public void Params_PointOutdirAtTheOutputsFolderUnlessGivenAndTurnFileUrlsIntoPaths()
    {
        var workspace = new RunWorkspace(_runs, "run-3");

        var defaulted = _engine.PrepareParams(JsonNode.Parse("""{"reads": "file:///data/r%201.fq", "n": 3}""")!.AsObject(), workspace);
        var given = _engine.PrepareParams(JsonNode.Parse("""{"outdir": "results"}""")!.AsObject(), workspace);

        Assert.Equal(workspace.OutputsDir, defaulted["outdir"]!.GetValue<string>());
        Assert.Equal("/data/r 1.fq", defaulted["reads"]!.GetValue<string>());
        Assert.Equal(3, defaulted["n"]!.GetValue<int>());
        Assert.Equal("results", given["outdir"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("\n      N E X T F L O W\n      version 23.10.1 build 5891\n      created 28-11-2023 15:44 UTC\n", "23.10.1")]
    [InlineData("nextflow version 24.04.2.5914\n", "24.04.2.5914")]
    [InlineData("no version here", null)]
    public void Version_IsReadFromTheBanner(string output, string? expected)
    {
        Assert.Equal(expected, NextflowEngine.ParseVersion(output));
    }

    [Theory]
    [InlineData("DSL2", "DSL2")]
    [InlineData("dsl2", "DSL2")]
    [InlineData("2", "DSL2")]
    [InlineData("1.0", null)]
    public void TypeVersion_IsDsl2(string given, string? expected)
    {
        Assert.Equal(expected, _engine.NormalizeTypeVersion(given));
    }

    [Fact]
    public void Trace_BecomesTasksWithTimesExitCodesAndLogFolders()
    {
        const string trace =
            "task_id\thash\tnative_id\tname\tstatus\texit\tsubmit\tstart\tcomplete\tworkdir\n" +
            "1\tab/123456\t4242\tsayHello (1)\tCOMPLETED\t0\t1700000000000\t1700000001000\t1700000002500\t/runs/r/tmp/work/ab/123456\n" +
            "2\tcd/654321\t4243\tsayHello (2)\tFAILED\t3\t1700000000100\t1700000001100\t1700000003000\t/runs/r/tmp/work/cd/654321\n" +
            "3\tef/000000\t-\tconvert (1)\tABORTED\t-\t1700000004000\t-\t-\t-\n" +
            "4\tgh/1";
        var workDirs = new Dictionary<string, string>();

        var tasks = NextflowTraceParser.Parse(trace, (id, dir) => workDirs[id] = dir);

        Assert.Equal(["1", "2", "3"], tasks.Select(t => t.TaskId));
        Assert.Equal(["sayHello (1)", "sayHello (2)", "convert (1)"], tasks.Select(t => t.Name));
        Assert.Equal(1700000001000, tasks[0].StartTime);
        Assert.Equal(1700000002500, tasks[0].EndTime);
        Assert.Equal(0, tasks[0].ExitCode);
        Assert.Null(tasks[0].SystemLogsJson);
        Assert.Equal(3, tasks[1].ExitCode);
        Assert.Contains("FAILED", tasks[1].SystemLogsJson, StringComparison.Ordinal);
        Assert.Equal("""["bash","/runs/r/tmp/work/ab/123456/.command.sh"]""", tasks[0].CmdJson);
        Assert.Equal(1700000004000, tasks[2].StartTime);
        Assert.Null(tasks[2].EndTime);
        Assert.Null(tasks[2].ExitCode);
        Assert.Equal(new Dictionary<string, string> { ["1"] = "/runs/r/tmp/work/ab/123456", ["2"] = "/runs/r/tmp/work/cd/654321" }, workDirs);
    }

    [Fact]
    public void TaskLogs_LinkToTheTaskWorkFolder()
    {
        var workspace = new RunWorkspace(_runs, "run-4");
        var work = Path.Combine(workspace.TmpDir, "work", "ab", "123456");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, ".command.out"), "out\n");
        File.WriteAllText(Path.Combine(work, ".command.err"), "err\n");
        Directory.CreateDirectory(workspace.EngineDir);
        File.WriteAllText(Path.Combine(workspace.EngineDir, "trace.tsv"),
            $"task_id\tname\tstatus\texit\tworkdir\n7\tstep (1)\tCOMPLETED\t0\t{work}\n");

        var task = _engine.ReadTasks(workspace).Single();

        Assert.Equal("7", task.TaskId);
        Assert.Equal("out\n", File.ReadAllText(workspace.TaskLogPath("7", TaskLogStream.Stdout)));
        Assert.Equal("err\n", File.ReadAllText(workspace.TaskLogPath("7", TaskLogStream.Stderr)));
    }

    [Fact]
    public void Parameters_AreDeclaredWithTypes()
    {
        Assert.Equal(["profile", "queue_size", "stub_run"], _engine.Parameters.Select(p => p.Name));
        Assert.NotNull(EngineParameterNames.Find(_engine, "nextflow:queue-size"));
        Assert.Equal("must be profile names separated by commas", _engine.Parameters[0].Problem("-c /etc/evil.config"));
    }
}
