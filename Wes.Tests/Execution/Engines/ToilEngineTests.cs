using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Execution.Engines.Toil;
using Wes.Tests.Support;

namespace Wes.Tests.Execution.Engines;

public sealed class ToilEngineTests : IDisposable
{
    private readonly string _runs = TempDirectory.Create("wes-toil");

    public void Dispose() => TempDirectory.Delete(_runs);

    [Fact]
    public void Command_KeepsToilsFilesInTheRunAndPassesTheBatchSystem()
    {
        var workspace = new RunWorkspace(_runs, "run-1");
        var parameters = new Dictionary<string, string> { ["batchSystem"] = "slurm", ["maxCores"] = "64", ["no_container"] = "true" };

        var arguments = new ToilEngine().BuildArguments(new EngineInvocation(workspace, "/w.cwl", parameters)).ToList();

        Assert.Equal("file:" + Path.Combine(workspace.EngineDir, "jobstore"), arguments[arguments.IndexOf("--jobStore") + 1]);
        Assert.Equal(workspace.OutputsDir, arguments[arguments.IndexOf("--outdir") + 1]);
        Assert.Equal("slurm", arguments[arguments.IndexOf("--batchSystem") + 1]);
        Assert.Equal("64", arguments[arguments.IndexOf("--maxCores") + 1]);
        Assert.Contains("--no-container", arguments);
        Assert.Equal(["/w.cwl", workspace.ParamsPath], arguments.TakeLast(2));
    }

    [Fact]
    public void CloudJobStore_GetsTheRunIdSoEveryRunHasItsOwn()
    {
        var workspace = new RunWorkspace(_runs, "0b7a");
        var parameters = new Dictionary<string, string> { ["jobStore"] = "aws:us-west-2:wes", ["batchSystem"] = "kubernetes" };

        var arguments = new ToilEngine().BuildArguments(new EngineInvocation(workspace, "/w.cwl", parameters)).ToList();

        Assert.Equal("aws:us-west-2:wes-0b7a", arguments[arguments.IndexOf("--jobStore") + 1]);
    }

    [Fact]
    public void Logs_BecomeTasksFromTheLeaderAndEachJobLog()
    {
        const string leader =
            "[2026-11-29T22:55:11+0000] [MainThread] [I] [toil.leader] Issued job 'CWLJob' workflow.cwl.0.count.cwl kind-CWLJob/instance-t7fmmwpj v1 with job batch system ID: 2 and disk: 3.0 Gi\n" +
            "[2026-11-29T22:55:12+0000] [MainThread] [I] [toil.leader] Issued job 'CWLJob' workflow.cwl.sum.sum.cwl kind-CWLJob/instance-ynnvkxri v1 with job batch system ID: 6 and disk: 3.0 Gi\n";
        const string jobLog =
            "[2026-11-29T22:55:14+0000] [MainThread] [I] [toil.worker] Working on job 'CWLJob' workflow.cwl.0.count.cwl kind-CWLJob/instance-t7fmmwpj v1\n" +
            "[2026-11-29T22:55:15+0000] [MainThread] [I] [cwltool] [job workflow.cwl.0.count.cwl] /tmp/x$ wc \\\n    -w < /tmp/a.txt > /tmp/out/a.count\n" +
            "[2026-11-29T22:55:16+0000] [MainThread] [W] [cwltool] [job workflow.cwl.0.count.cwl] exited with status: 3\n" +
            "[2026-11-29T22:55:16+0000] [MainThread] [W] [cwltool] [job workflow.cwl.0.count.cwl] completed permanentFail\n";
        var linked = new List<(string, string)>();

        var tasks = ToilLogParser.Parse(leader, [("/logs/count.log", jobLog)], (id, path) => linked.Add((id, path)));

        Assert.Equal(["workflow.cwl.0.count.cwl", "workflow.cwl.sum.sum.cwl"], tasks.Select(t => t.TaskId));
        Assert.Equal(DateTimeOffset.Parse("2026-11-29T22:55:11Z").ToUnixTimeMilliseconds(), tasks[0].StartTime);
        Assert.Equal(DateTimeOffset.Parse("2026-11-29T22:55:16Z").ToUnixTimeMilliseconds(), tasks[0].EndTime);
        Assert.Equal(3, tasks[0].ExitCode);
        Assert.Equal("""["wc","-w","\u003C","/tmp/a.txt","\u003E","/tmp/out/a.count"]""", tasks[0].CmdJson);
        Assert.Null(tasks[1].EndTime);
        Assert.Equal([("workflow.cwl.0.count.cwl", "/logs/count.log")], linked);
    }

    [Theory]
    [InlineData("batchSystem", "lsf", null)]
    [InlineData("batchSystem", "bash -c", "must be one of")]
    [InlineData("maxMemory", "64G", null)]
    [InlineData("maxMemory", "512Mi", null)]
    [InlineData("maxMemory", "--evil", "must be a size")]
    [InlineData("retryCount", "11", "must be between 0 and 10")]
    public void Parameters_CheckTheirValues(string name, string value, string? problem)
    {
        var declared = EngineParameterNames.Find(new ToilEngine(), name)!;

        var found = declared.Problem(value);

        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.StartsWith(problem, found, StringComparison.Ordinal);
        }
    }
}
