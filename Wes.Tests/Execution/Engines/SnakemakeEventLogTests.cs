using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Execution.Engines.Snakemake;
using Wes.Tests.Support;

namespace Wes.Tests.Execution.Engines;

public sealed class SnakemakeEventLogTests : IDisposable
{
    private readonly string _runs = TempDirectory.Create("wes-snakemake");

    public void Dispose() => TempDirectory.Delete(_runs);

    private const string Events =
        """
        {"level": "job_info", "jobid": 2, "name": "upper", "input": ["data/a.txt"], "output": ["results/a.txt"], "log": ["logs/a.out", "logs/a.err"], "time": 1700000000.25, "wildcards": {"sample": "a"}, "log_names": {"stdout": "logs/a.out", "stderr": "logs/a.err"}}
        {"level": "shellcmd", "msg": "tr a-z A-Z < data/a.txt > results/a.txt", "time": 1700000000.3}
        {"level": "job_info", "jobid": 1, "name": "broken", "input": ["results/a.txt"], "output": ["results/b.txt"], "log": [], "time": 1700000001, "wildcards": {}, "log_names": {}}
        {"level": "shellcmd", "msg": "exit 3", "time": 1700000001.1}
        {"level": "job_finished", "jobid": 2, "time": 1700000002}
        {"level": "debug", "msg": "Traceback ...\nsubprocess.CalledProcessError: Command 'set -euo pipefail;  exit 3' returned non-zero exit status 3.\n", "time": 1700000003}
        {"level": "job_error", "jobid": 1, "name": "broken", "time": 1700000003.5}
        {"level": "job_info", "jobid": 0, "name": "all", "input": ["results/b.txt"], "output": [], "log": [], "time": 17
        """;

    [Fact]
    public void Events_BecomeJobsWithCommandsTimesAndExitCodes()
    {
        var jobs = SnakemakeEventLog.Parse(Events);

        Assert.Equal(["upper.2", "broken.1"], jobs.Select(j => j.TaskId));
        Assert.Equal("upper (sample=a)", jobs[0].DisplayName);
        Assert.Equal("tr a-z A-Z < data/a.txt > results/a.txt", jobs[0].ShellCommand);
        Assert.Equal(1700000000250, jobs[0].StartTime);
        Assert.Equal(1700000002000, jobs[0].EndTime);
        Assert.Equal(0, jobs[0].ExitCode);
        Assert.True(jobs[1].Failed);
        Assert.Equal(3, jobs[1].ExitCode);
        Assert.Equal(1700000003500, jobs[1].EndTime);
    }

    [Fact]
    public void Command_KeepsConfigFirstAndTargetsLast()
    {
        var workspace = new RunWorkspace(_runs, "run-1");
        var parameters = new Dictionary<string, string> { ["cores"] = "4", ["keep_going"] = "true", ["target"] = "all  results/a.txt" };

        var arguments = new SnakemakeEngine().BuildArguments(new EngineInvocation(workspace, Path.Combine(workspace.ExeDir, "Snakefile"), parameters));

        Assert.Equal(["--configfile", workspace.ParamsPath], arguments.Take(2));
        Assert.Equal("4", arguments[arguments.ToList().IndexOf("--cores") + 1]);
        Assert.Contains("--keep-going", arguments);
        Assert.Equal(["all", "results/a.txt"], arguments.TakeLast(2));
    }

    [Fact]
    public async Task Outputs_AreTheTargetsOutputsMovedIntoTheOutputsFolder()
    {
        var engine = new SnakemakeEngine();
        var workspace = new RunWorkspace(_runs, "run-2");
        await engine.WriteSupportFilesAsync(workspace, CancellationToken.None);
        Directory.CreateDirectory(Path.Combine(workspace.ExeDir, "results"));
        Directory.CreateDirectory(Path.Combine(workspace.ExeDir, "logs"));
        File.WriteAllText(Path.Combine(workspace.ExeDir, "results", "a.txt"), "A");
        File.WriteAllText(Path.Combine(workspace.ExeDir, "results", "b.txt"), "B");
        File.WriteAllText(Path.Combine(workspace.ExeDir, "logs", "a.err"), "upper's stderr");
        File.WriteAllText(Path.Combine(workspace.EngineDir, "snakemake-events.jsonl"), Events.Replace("\"time\": 17\n", "\"time\": 1700000004}\n", StringComparison.Ordinal) + "}\n");

        var tasks = engine.ReadTasks(workspace);
        var outputs = engine.CollectOutputs(workspace)!;

        Assert.Equal(["results/b.txt"], outputs.Select(o => o.Key));
        Assert.Equal("B", File.ReadAllText(Path.Combine(workspace.OutputsDir, "results", "b.txt")));
        Assert.Equal("A", File.ReadAllText(Path.Combine(workspace.ExeDir, "results", "a.txt")));
        Assert.Equal(["upper.2", "broken.1", "all.0"], tasks.Select(t => t.TaskId));
        Assert.Equal("upper's stderr", File.ReadAllText(workspace.TaskLogPath("upper.2", TaskLogStream.Stderr)));
        Assert.False(File.Exists(workspace.TaskLogPath("upper.2", TaskLogStream.Stdout)));
    }

    [Fact]
    public void ConfigFileUrls_BecomePaths()
    {
        var prepared = new SnakemakeEngine().PrepareParams(
            System.Text.Json.Nodes.JsonNode.Parse("""{"ref": "file:///data/ref.fa", "list": ["file:///a", "https://x/y"]}""")!.AsObject(),
            new RunWorkspace(_runs, "run-3"));

        Assert.Equal("""{"ref":"/data/ref.fa","list":["/a","https://x/y"]}""", prepared.ToJsonString());
    }
}
