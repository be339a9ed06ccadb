using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Wes.Execution.Engines.Snakemake;

/// <summary>One Snakemake job as its events describe it. Paths are as the Snakefile declared them (mostly relative).</summary>
public sealed class SnakemakeJob
{
    public required int JobId { get; init; }
    public required string Rule { get; init; }
    public IReadOnlyDictionary<string, string> Wildcards { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Input { get; init; } = [];
    public IReadOnlyList<string> Output { get; init; } = [];
    public IReadOnlyList<string> Log { get; init; } = [];
    public IReadOnlyDictionary<string, string> LogNames { get; init; } = new Dictionary<string, string>();
    public string? ShellCommand { get; set; }
    public long StartTime { get; init; }
    public long? EndTime { get; set; }
    public int? ExitCode { get; set; }
    public bool Failed { get; set; }

    /// <summary>"upper.3": the rule and Snakemake's job id, which is unique within a run.</summary>
    public string TaskId => $"{Rule}.{JobId.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>"upper (sample=words)": the rule and its wildcards.</summary>
    public string DisplayName => Wildcards.Count == 0 ? Rule : $"{Rule} ({string.Join(", ", Wildcards.Select(w => $"{w.Key}={w.Value}"))})";
}

/// <summary>Reads the JSON-lines file written by wes_log_handler.py into jobs, in the order they started.</summary>
public static partial class SnakemakeEventLog
{
    [GeneratedRegex(@"Command '(?<cmd>.*)' returned non-zero exit status (?<code>-?\d+)", RegexOptions.Singleline)]
    private static partial Regex FailedCommand();

    public static IReadOnlyList<SnakemakeJob> Parse(string events)
    {
        var jobs = new List<SnakemakeJob>();
        var byId = new Dictionary<int, SnakemakeJob>();
        var failedCommands = new List<(string Command, int Code)>();
        foreach (var line in events.Split('\n'))
        {
            try
            {
                Apply(line, jobs, byId, failedCommands);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or OverflowException or ArgumentException)
            {
                // The workflow can write in the run folder: a line of the wrong shape is skipped, never thrown on.
            }
        }

        AttachExitCodes(jobs, failedCommands);
        return jobs;
    }

    private static void Apply(string line, List<SnakemakeJob> jobs, Dictionary<int, SnakemakeJob> byId, List<(string Command, int Code)> failedCommands)
    {
        // The last line may still be being written.
        if (TryParse(line) is not { } e || e["level"]?.GetValue<string>() is not { } level)
        {
            return;
        }

        var jobId = e["jobid"] is JsonValue id && id.TryGetValue<int>(out var n) ? n : (int?)null;
        var known = jobId is { } key ? byId.GetValueOrDefault(key) : null;
        var at = (long)((e["time"]?.GetValue<double>() ?? 0) * 1000);
        switch (level)
        {
            case "job_info" when jobId is not null:
                // A restarted job (--restart-times) is reported again under the same id; the retry replaces it.
                var job = NewJob(jobId.Value, e, at);
                jobs.RemoveAll(j => j.JobId == job.JobId);
                jobs.Add(job);
                byId[job.JobId] = job;
                break;
            case "shellcmd" when jobs.Count > 0:
                // Snakemake logs a job's command right after its job_info, from the same thread.
                jobs[^1].ShellCommand ??= e["msg"]?.GetValue<string>();
                break;
            case "job_finished" when known is not null:
                known.EndTime = at;
                known.ExitCode = 0;
                break;
            case "job_error" when known is not null:
                known.EndTime = at;
                known.Failed = true;
                break;
            case "debug" when FailedCommand().Match(e["msg"]?.GetValue<string>() ?? "") is { Success: true } failed:
                failedCommands.Add((failed.Groups["cmd"].Value, int.Parse(failed.Groups["code"].Value, CultureInfo.InvariantCulture)));
                break;
        }
    }

    /// <summary>The exit status is only in the traceback, which names the command; it is matched to the job that ran it.</summary>
    private static void AttachExitCodes(List<SnakemakeJob> jobs, List<(string Command, int Code)> failedCommands)
    {
        foreach (var job in jobs.Where(j => j.Failed && j.ShellCommand is not null))
        {
            var match = failedCommands.LastOrDefault(f => f.Command.EndsWith(job.ShellCommand!.Trim(), StringComparison.Ordinal));
            job.ExitCode = match.Command is null ? null : match.Code;
        }
    }

    private static SnakemakeJob NewJob(int jobId, JsonObject e, long at) => new()
    {
        JobId = jobId,
        Rule = e["name"]?.GetValue<string>() ?? "job",
        Wildcards = Map(e["wildcards"]),
        Input = Strings(e["input"]),
        Output = Strings(e["output"]),
        Log = Strings(e["log"]),
        LogNames = Map(e["log_names"]),
        StartTime = at,
    };

    private static JsonObject? TryParse(string line)
    {
        try
        {
            return string.IsNullOrWhiteSpace(line) ? null : JsonNode.Parse(line) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static List<string> Strings(JsonNode? node) =>
        node is JsonArray array ? array.Select(v => v?.ToString() ?? "").Where(v => v.Length > 0).ToList() : [];

    private static Dictionary<string, string> Map(JsonNode? node) =>
        node is JsonObject obj ? obj.ToDictionary(p => p.Key, p => p.Value?.ToString() ?? "") : [];
}
