using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wes.Runs;

namespace Wes.Execution.Engines.Nextflow;

/// <summary>
/// Reads Nextflow's trace file (tab-separated, a header row, one row per task; raw mode, so times are epoch
/// milliseconds) into tasks. The fields the server asks for are in <see cref="NextflowEngine.TraceFields"/>.
/// </summary>
public static class NextflowTraceParser
{
    /// <param name="onWorkDir">Told each task's work folder, where Nextflow keeps .command.out and .command.err.</param>
    public static IReadOnlyList<RunTask> Parse(string trace, Action<string, string>? onWorkDir = null)
    {
        var lines = trace.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        if (lines.Count == 0)
        {
            return [];
        }

        var header = lines[0].Split('\t');
        var tasks = new List<RunTask>();
        // A row still being written has fewer fields than the header.
        foreach (var fields in lines.Skip(1).Select(l => l.Split('\t')).Where(f => f.Length == header.Length))
        {
            var row = header.Zip(fields).ToDictionary(p => p.First, p => p.Second == "-" ? "" : p.Second, StringComparer.Ordinal);
            var id = row.GetValueOrDefault("task_id", "");
            if (id.Length == 0)
            {
                continue;
            }

            var status = row.GetValueOrDefault("status", "");
            var workDir = row.GetValueOrDefault("workdir", "");
            tasks.Add(new RunTask
            {
                TaskId = id,
                Name = row.GetValueOrDefault("name") is { Length: > 0 } name ? name : id,
                CmdJson = workDir.Length > 0 ? JsonSerializer.Serialize(new[] { "bash", Path.Combine(workDir, ".command.sh") }) : null,
                StartTime = Millis(row, "start") ?? Millis(row, "submit"),
                EndTime = Millis(row, "complete"),
                ExitCode = int.TryParse(row.GetValueOrDefault("exit"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var exit) ? exit : null,
                SystemLogsJson = status is "COMPLETED" or "CACHED" or "" ? null : new JsonArray($"nextflow: task {id} {status}").ToJsonString(),
            });
            if (workDir.Length > 0)
            {
                onWorkDir?.Invoke(id, workDir);
            }
        }

        return tasks;
    }

    private static long? Millis(Dictionary<string, string> row, string field) =>
        long.TryParse(row.GetValueOrDefault(field), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0 ? ms : null;
}
