using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Runs;

namespace Wes.Api;

/// <summary>Turns stored runs and tasks into the WES response shapes, with absolute links back to this server.</summary>
public sealed class RunViews(IOptions<WesOptions> options)
{
    public static string? Time(long? epochMilliseconds) =>
        epochMilliseconds is { } ms
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : null;

    /// <summary>The API base the client used (/ga4gh/wes/v1 or /api/ga4gh/wes/v1), made absolute.</summary>
    public string ApiBase(HttpRequest request)
    {
        var path = (request.PathBase + request.Path).Value ?? "";
        var cut = path.IndexOf("/runs", StringComparison.Ordinal);
        var prefix = cut >= 0 ? path[..cut] : path[..Math.Max(0, path.LastIndexOf('/'))];
        var origin = string.IsNullOrWhiteSpace(options.Value.PublicBaseUrl)
            ? $"{request.Scheme}://{request.Host}"
            : options.Value.PublicBaseUrl.TrimEnd('/');
        return origin + prefix;
    }

    public static RunSummary Summary(Run run) =>
        new(run.RunId, run.State, Time(run.StartedAt), Time(run.EndedAt), Tags(run.TagsJson));

    public RunLog Log(Run run, HttpRequest request)
    {
        var runUrl = $"{ApiBase(request)}/runs/{run.RunId}";
        return new RunLog
        {
            RunId = run.RunId,
            Request = JsonNode.Parse(run.RequestJson) as JsonObject,
            State = run.State,
            RunLogEntry = new Log
            {
                Name = $"{run.Engine} {run.WorkflowUrl}",
                Cmd = Strings(run.CmdJson),
                StartTime = Time(run.StartedAt),
                EndTime = Time(run.EndedAt),
                Stdout = runUrl + "/stdout",
                Stderr = runUrl + "/stderr",
                ExitCode = run.ExitCode,
                SystemLogs = [.. Strings(run.SystemLogsJson) ?? [], .. EarlierAttemptLogs(run.RunId, runUrl)],
            },
            TaskLogsUrl = runUrl + "/tasks",
            Outputs = run.OutputsJson is null ? null : JsonNode.Parse(run.OutputsJson) as JsonObject,
        };
    }

    /// <summary>Links to the logs of each earlier execution of a retried or re-queued run.</summary>
    private IEnumerable<string> EarlierAttemptLogs(string runId, string runUrl)
    {
        var archived = new Execution.RunWorkspace(options.Value.RunsDir, runId).ArchivedAttempts;
        return Enumerable.Range(1, archived).Select(n =>
            $"Logs of earlier execution {n}: {runUrl}/attempts/{n}/stdout {runUrl}/attempts/{n}/stderr");
    }

    public static TaskLog Task(RunTask task) => new()
    {
        Id = task.TaskId,
        Name = task.Name,
        Cmd = Strings(task.CmdJson),
        StartTime = Time(task.StartTime),
        EndTime = Time(task.EndTime),
        ExitCode = task.ExitCode,
        SystemLogs = Strings(task.SystemLogsJson),
    };

    private static IReadOnlyList<string>? Strings(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<string[]>(json);

    private static IReadOnlyDictionary<string, string> Tags(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
}
