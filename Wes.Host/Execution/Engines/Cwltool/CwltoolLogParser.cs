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
/// </summary>
public static partial class CwltoolLogParser
{
    [GeneratedRegex(@"^\[(?<ts>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?<zone>[+-]\d\d:?\d\d)?)\] (?:\w+|\[[^\]]*\] \[\w\] \[cwltool\]) \[job (?<job>[^\]]+)\] (?<msg>.*)$")]
    private static partial Regex JobLine();

    [GeneratedRegex(@"^\S*\$ (?<cmd>.*)$")]
    private static partial Regex CommandStart();

    [GeneratedRegex(@"^exited with status: (?<code>-?\d+)")]
    private static partial Regex ExitStatus();

    [GeneratedRegex(@"^completed (?<status>\w+)")]
    private static partial Regex Completed();

    public static IReadOnlyList<RunTask> Parse(string log)
    {
        var tasks = new Dictionary<string, RunTask>(StringComparer.Ordinal);
        var order = new List<RunTask>();
        var lines = log.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var match = JobLine().Match(lines[i].TrimEnd('\r'));
            if (!match.Success)
            {
                continue;
            }

            var job = match.Groups["job"].Value.Trim();
            var at = ParseTime(match.Groups["ts"].Value, match.Groups["zone"].Success);
            var message = match.Groups["msg"].Value;
            if (!tasks.TryGetValue(job, out var task))
            {
                task = new RunTask { TaskId = job, Name = job, StartTime = at };
                tasks[job] = task;
                order.Add(task);
            }

            if (CommandStart().Match(message) is { Success: true } start)
            {
                var command = new StringBuilder(start.Groups["cmd"].Value);
                // A long command continues on the following lines, each ending in a backslash but the last.
                while (command.Length > 0 && command[^1] == '\\' && i + 1 < lines.Length)
                {
                    command.Length--;
                    command.Append(' ').Append(lines[++i].Trim());
                }

                task.CmdJson = JsonSerializer.Serialize(ShellWords.Split(command.ToString()));
                task.StartTime = at;
            }
            else if (ExitStatus().Match(message) is { Success: true } exit)
            {
                task.ExitCode = int.Parse(exit.Groups["code"].Value, CultureInfo.InvariantCulture);
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

        return order;
    }

    /// <summary>cwltool writes local time without a zone; Toil writes "2026-11-29T22:55:15+0000".</summary>
    public static long ParseTime(string value, bool hasZone)
    {
        if (hasZone)
        {
            var withColon = value[^3] == ':' ? value : value[..^2] + ":" + value[^2..];
            return DateTimeOffset.ParseExact(withColon, "yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
        }

        var local = DateTime.ParseExact(value, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal);
        return new DateTimeOffset(local).ToUnixTimeMilliseconds();
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
