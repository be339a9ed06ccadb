using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Wes.Runs;

namespace Wes.Execution.Engines.Cwltool;

/// <summary>
/// Turns cwltool's --timestamps log into one task per job: "[job X] dir$ cmd" starts it,
/// "[job X] exited with status: N" gives its exit code, "[job X] completed S" ends it. Toil runs each CWL job through
/// cwltool's code, so a Toil job log has the same lines behind Toil's own prefix ("[ts] [thread] [I] [cwltool]").
/// The log also holds whatever the workflow's tools print, so any line may be hostile: a line that looks like a
/// job line but cannot be read (an impossible time, a huge exit code) is skipped and counted, never thrown on.
/// Lines are fed one at a time as the log grows, so a long log is read once, not again at every look.
/// </summary>
public sealed partial class CwltoolLogParser
{
    [GeneratedRegex(@"^\[(?<ts>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?<zone>[+-]\d\d:?\d\d)?)\] (?:\w+|\[[^\]]*\] \[\w\] \[cwltool\]) \[job (?<job>[^\]]+)\] (?<msg>.*)$")]
    private static partial Regex JobLine();

    [GeneratedRegex(@"^\S*\$ (?<cmd>.*)$")]
    private static partial Regex CommandStart();

    [GeneratedRegex(@"^exited with status: (?<code>-?\d+)")]
    private static partial Regex ExitStatus();

    [GeneratedRegex(@"^completed (?<status>\w+)")]
    private static partial Regex Completed();

    /// <summary>Jobs with more tasks than this are not tracked further (a log can name any number of "jobs").</summary>
    private const int MaxTasks = 100_000;

    /// <summary>A command continued over more lines than this is cut short.</summary>
    private const int MaxCommandChars = 256 * 1024;

    private readonly Dictionary<string, RunTask> _tasks = new(StringComparer.Ordinal);
    private readonly List<RunTask> _order = [];
    private (RunTask Task, StringBuilder Command)? _continuing;

    /// <summary>The tasks so far, in the order they appeared.</summary>
    public IReadOnlyList<RunTask> Tasks => _order;

    /// <summary>Lines that looked like cwltool's job lines but could not be read.</summary>
    public int SkippedLines { get; private set; }

    public static IReadOnlyList<RunTask> Parse(string log)
    {
        var parser = new CwltoolLogParser();
        foreach (var line in log.Split('\n'))
        {
            parser.Feed(line);
        }

        parser.Flush();
        return parser.Tasks;
    }

    /// <summary>Takes the next complete line of the log.</summary>
    public void Feed(string line)
    {
        line = line.TrimEnd('\r');
        if (_continuing is var (task, command))
        {
            // A long command continues on the following lines, each ending in a backslash but the last.
            command.Length--;
            command.Append(' ').Append(line.Trim());
            if (command.Length > MaxCommandChars || command.Length == 0 || command[^1] != '\\')
            {
                Flush();
            }

            return;
        }

        var match = JobLine().Match(line);
        if (!match.Success)
        {
            return;
        }

        if (TryParseTime(match.Groups["ts"].Value, match.Groups["zone"].Success) is not { } at)
        {
            SkippedLines++;
            return;
        }

        Apply(match.Groups["job"].Value.Trim(), at, match.Groups["msg"].Value);
    }

    /// <summary>Ends a command still waiting for its continuation lines (at the end of the log as it stands).</summary>
    public void Flush()
    {
        if (_continuing is var (task, command))
        {
            task.CmdJson = JsonSerializer.Serialize(ShellWords.Split(command.ToString().TrimEnd('\\')));
            _continuing = null;
        }
    }

    private void Apply(string job, long at, string message)
    {
        if (!_tasks.TryGetValue(job, out var task))
        {
            if (_tasks.Count >= MaxTasks)
            {
                SkippedLines++;
                return;
            }

            task = new RunTask { TaskId = job, Name = job, StartTime = at };
            _tasks[job] = task;
            _order.Add(task);
        }

        if (CommandStart().Match(message) is { Success: true } start)
        {
            task.StartTime = at;
            var command = new StringBuilder(start.Groups["cmd"].Value);
            if (command.Length > 0 && command[^1] == '\\')
            {
                _continuing = (task, command);
                return;
            }

            task.CmdJson = JsonSerializer.Serialize(ShellWords.Split(command.ToString()));
        }
        else if (ExitStatus().Match(message) is { Success: true } exit)
        {
            if (int.TryParse(exit.Groups["code"].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code))
            {
                task.ExitCode = code;
            }
            else
            {
                SkippedLines++;
            }
        }
        else if (Completed().Match(message) is { Success: true } completed)
        {
            task.EndTime = at;
            var status = completed.Groups["status"].Value;
            if (status == "success")
            {
                task.ExitCode ??= 0;
            }
            else
            {
                task.SystemLogsJson = JsonSerializer.Serialize(new[] { $"cwltool: job {job} completed {status}" });
            }
        }
    }

    /// <summary>cwltool writes local time without a zone; Toil writes "2026-11-29T22:55:15+0000". Null if it is no real time.</summary>
    public static long? TryParseTime(string value, bool hasZone)
    {
        if (hasZone)
        {
            var withColon = value[^3] == ':' ? value : value[..^2] + ":" + value[^2..];
            return DateTimeOffset.TryParseExact(withColon, "yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var zoned)
                ? zoned.ToUnixTimeMilliseconds()
                : null;
        }

        return DateTime.TryParseExact(value, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var local)
            ? new DateTimeOffset(local).ToUnixTimeMilliseconds()
            : null;
    }
}

/// <summary>Splits a POSIX shell-quoted command line as cwltool prints it back into its words.</summary>
public static class ShellWords
{
    public static IReadOnlyList<string> Split(string line)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        char? quote = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote == '\'')
            {
                if (c == '\'') { quote = null; } else { current.Append(c); }
            }
            else if (quote == '"')
            {
                if (c == '"') { quote = null; }
                else if (c == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$' or '`') { current.Append(line[++i]); }
                else { current.Append(c); }
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) { words.Add(current.ToString()); current.Clear(); inWord = false; }
            }
            else
            {
                inWord = true;
                if (c is '\'' or '"') { quote = c; }
                else if (c == '\\' && i + 1 < line.Length) { current.Append(line[++i]); }
                else { current.Append(c); }
            }
        }

        if (inWord)
        {
            words.Add(current.ToString());
        }

        return words;
    }
}
