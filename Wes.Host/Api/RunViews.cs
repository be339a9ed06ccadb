using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Runs;

namespace Wes.Api;

/// <summary>Turns stored runs and tasks into the WES response shapes, with absolute links back to this server.</summary>
public sealed class RunViews(IOptions<WesOptions> options)
{
    public static string? Time(long? epochMilliseconds) =>
        epochMilliseconds is { } ms
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : null;

    /// <summary>Like <see cref="Time"/> with milliseconds, so short steps of a run's history keep their length.</summary>
    public static string PreciseTime(long epochMilliseconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds(epochMilliseconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The API base the client used (/ga4gh/wes/v1 or /api/ga4gh/wes/v1), made absolute.</summary>
    public string ApiBase(HttpRequest request)
    {
        var path = (request.PathBase + request.Path).Value ?? "";
        var cut = path.IndexOf("/runs", StringComparison.Ordinal);
        var prefix = cut >= 0 ? path[..cut] : path[..Math.Max(0, path.LastIndexOf('/'))];
        return Origin(request) + prefix;
    }

    /// <summary>Scheme and host of this server as clients reach it: WES_PUBLIC_BASE_URL, else the request's own.</summary>
    public string Origin(HttpRequest request) =>
        string.IsNullOrWhiteSpace(options.Value.PublicBaseUrl) ? $"{request.Scheme}://{request.Host}" : options.Value.PublicBaseUrl.TrimEnd('/');

    public static RunSummary Summary(Run run) =>
        new(run.RunId, run.State, Time(run.StartedAt), Time(run.EndedAt), run.ReadTags());

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
            Outputs = Outputs(run, runUrl),
        };
    }

    /// <summary>Links to the logs of each earlier execution of a retried or re-queued run.</summary>
    private IEnumerable<string> EarlierAttemptLogs(string runId, string runUrl)
    {
        var archived = new Execution.RunWorkspace(options.Value.RunsDir, runId).ArchivedAttempts;
        return Enumerable.Range(1, archived).Select(n =>
            $"Logs of earlier execution {n}: {runUrl}/attempts/{n}/stdout {runUrl}/attempts/{n}/stderr");
    }

    /// <summary>
    /// A task id from a route: the server decodes every escape in a path except %2F (an encoded '/'), which a task id
    /// holding a slash arrives as, because links escape it (see <see cref="Task"/>).
    /// </summary>
    public static string TaskIdFromRoute(string taskId) => taskId.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    /// <summary>stdout and stderr link to the task's own logs, where the engine keeps them (see RunWorkspace.TaskLogPath).</summary>
    public TaskLog Task(RunTask task, HttpRequest request)
    {
        var workspace = new RunWorkspace(options.Value.RunsDir, task.RunId);
        var taskUrl = $"{ApiBase(request)}/runs/{task.RunId}/tasks/{Uri.EscapeDataString(task.TaskId)}";
        return new TaskLog
        {
            Id = task.TaskId,
            Name = task.Name,
            Cmd = Strings(task.CmdJson),
            StartTime = Time(task.StartTime),
            EndTime = Time(task.EndTime),
            Stdout = File.Exists(workspace.TaskLogPath(task.TaskId, TaskLogStream.Stdout)) ? taskUrl + "/stdout" : null,
            Stderr = File.Exists(workspace.TaskLogPath(task.TaskId, TaskLogStream.Stderr)) ? taskUrl + "/stderr" : null,
            ExitCode = task.ExitCode,
            SystemLogs = Strings(task.SystemLogsJson),
        };
    }

    /// <summary>
    /// With a public base URL configured, output files in the run's outputs folder are located by their download URL
    /// (GET /runs/{run_id}/outputs/{path}) instead of their file:// path on the server, which clients cannot open.
    /// </summary>
    private JsonObject? Outputs(Run run, string runUrl)
    {
        if (run.OutputsJson is null || JsonNode.Parse(run.OutputsJson) is not JsonObject outputs)
        {
            return null;
        }

        if (!string.IsNullOrWhiteSpace(options.Value.PublicBaseUrl))
        {
            var folder = new RunWorkspace(options.Value.RunsDir, run.RunId).OutputsDir;
            OutputLinks.Rewrite(outputs, [folder, PathConfinement.RealPath(folder) ?? folder], runUrl + "/outputs");
        }

        return outputs;
    }

    private static IReadOnlyList<string>? Strings(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<string[]>(json);
}
