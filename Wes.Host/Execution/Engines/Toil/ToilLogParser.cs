using System.Text.RegularExpressions;
using Wes.Execution.Engines.Cwltool;
using Wes.Runs;

namespace Wes.Execution.Engines.Toil;

/// <summary>
/// Toil's tasks come from two places: the leader's log says when each CWL job was issued (so running jobs show up),
/// and the log Toil writes for each finished job (--writeLogs) has cwltool's lines with the command and exit status.
/// </summary>
public static partial class ToilLogParser
{
    [GeneratedRegex(@"^\[(?<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4})\] \[[^\]]*\] \[\w\] \[toil\.leader\] Issued job 'CWLJob' (?<name>\S+) kind-\S+ v\d+ with job batch system ID")]
    private static partial Regex IssuedJob();

    /// <param name="leaderLog">The engine's stderr.</param>
    /// <param name="jobLogs">The job log files as (path, text), oldest attempt first.</param>
    /// <param name="onJobLog">Told which file holds each task's log.</param>
    public static IReadOnlyList<RunTask> Parse(string leaderLog, IEnumerable<(string Path, string Text)> jobLogs, Action<string, string>? onJobLog = null)
    {
        var tasks = new Dictionary<string, RunTask>(StringComparer.Ordinal);
        var order = new List<RunTask>();
        foreach (var line in leaderLog.Split('\n'))
        {
            // A line with an impossible time is the workflow's output, not Toil's: it is skipped.
            if (IssuedJob().Match(line.TrimEnd('\r')) is { Success: true } issued && !tasks.ContainsKey(issued.Groups["name"].Value) &&
                CwltoolLogParser.TryParseTime(issued.Groups["ts"].Value, hasZone: true) is { } at)
            {
                var name = issued.Groups["name"].Value;
                var task = new RunTask { TaskId = name, Name = name, StartTime = at };
                tasks[name] = task;
                order.Add(task);
            }
        }

        foreach (var (path, text) in jobLogs)
        {
            foreach (var attempt in CwltoolLogParser.Parse(text))
            {
                if (!tasks.TryGetValue(attempt.TaskId, out var task))
                {
                    tasks[attempt.TaskId] = task = attempt;
                    order.Add(task);
                }
                else
                {
                    // A retry's log comes later and replaces what the earlier attempt said.
                    task.CmdJson = attempt.CmdJson ?? task.CmdJson;
                    task.EndTime = attempt.EndTime;
                    task.ExitCode = attempt.ExitCode;
                    task.SystemLogsJson = attempt.SystemLogsJson;
                }

                onJobLog?.Invoke(task.TaskId, path);
            }
        }

        return order;
    }
}
