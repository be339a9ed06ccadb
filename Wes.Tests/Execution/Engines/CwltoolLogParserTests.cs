using Wes.Execution.Engines.Cwltool;

namespace Wes.Tests.Execution.Engines;

/// <summary>cwltool's log carries whatever the workflow's tools print: lines that only look like job lines are skipped.</summary>
public sealed class CwltoolLogParserTests
{
    private const string RealJob =
        "[2026-11-30 10:00:00] INFO [job shout] /tmp/x$ tr \\\n    a-z \\\n    A-Z\n" +
        "[2026-11-30 10:00:01] INFO [job shout] completed success\n";

    [Theory]
    [InlineData("[2026-13-45 25:61:61] INFO [job x] completed success")]
    [InlineData("[0000-00-00 00:00:00] INFO [job x] completed success")]
    [InlineData("[2026-02-30T10:00:00+9999] [MainThread] [I] [cwltool] [job x] completed success")]
    [InlineData("[2026-11-30 10:00:02] INFO [job y] exited with status: 99999999999999999999")]
    public void ImpossibleLine_IsSkippedAndCounted(string hostile)
    {
        var parser = new CwltoolLogParser();
        foreach (var line in (RealJob + hostile + "\n").Split('\n'))
        {
            parser.Feed(line);
        }

        Assert.Equal(1, parser.SkippedLines);
        var shout = Assert.Single(parser.Tasks, t => t.TaskId == "shout");
        Assert.Equal("""["tr","a-z","A-Z"]""", shout.CmdJson);
        Assert.Equal(0, shout.ExitCode);
    }

    [Fact]
    public void LinesFedOneAtATime_GiveTheSameTasksAsTheWholeLog()
    {
        var whole = CwltoolLogParser.Parse(RealJob);
        var parser = new CwltoolLogParser();
        foreach (var line in RealJob.Split('\n'))
        {
            parser.Feed(line);
        }

        Assert.Equal(whole.Select(t => (t.TaskId, t.CmdJson, t.ExitCode, t.EndTime)), parser.Tasks.Select(t => (t.TaskId, t.CmdJson, t.ExitCode, t.EndTime)));
    }

    [Fact]
    public void EndlessContinuation_IsCutShort()
    {
        var parser = new CwltoolLogParser();
        parser.Feed("[2026-11-30 10:00:00] INFO [job long] /tmp/x$ echo \\");
        for (var i = 0; i < 100_000; i++)
        {
            parser.Feed("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \\");
        }

        parser.Feed("[2026-11-30 10:00:05] INFO [job long] completed success");

        var task = Assert.Single(parser.Tasks);
        Assert.True(task.CmdJson!.Length < 400 * 1024, "the command stays bounded");
        Assert.Equal(0, task.ExitCode);
    }
}
