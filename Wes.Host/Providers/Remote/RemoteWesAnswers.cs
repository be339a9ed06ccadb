using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wes.Runs;

namespace Wes.Providers.Remote;

/// <summary>A log as a remote reports it: links may be relative, and any field may be missing or null.</summary>
public sealed record RemoteLog(
    string? Name, IReadOnlyList<string>? Cmd, long? StartTime, long? EndTime, string? Stdout, string? Stderr, int? ExitCode,
    IReadOnlyList<string> SystemLogs, string? Id = null);

public sealed record RemoteRunLog(RunState State, JsonObject? Outputs, RemoteLog? RunLog, IReadOnlyList<RemoteLog>? TaskLogs);

public sealed record RemotePage<T>(IReadOnlyList<T> Items, string? NextPageToken);

/// <summary>What a remote's service-info says it runs: type and engine names with their versions.</summary>
public sealed record RemoteServiceInfo(IReadOnlyDictionary<string, IReadOnlyList<string>> TypeVersions, IReadOnlyDictionary<string, IReadOnlyList<string>> EngineVersions);

/// <summary>An output file a remote lists (this server's GET /runs/{id}/outputs extension).</summary>
public sealed record RemoteOutputFile(string Path, string? Url);

/// <summary>
/// Reads what WES servers answer, as real ones send it: WES 1.0 and 1.1 shapes, "workflows" for "runs", numbers for
/// strings, relative links, missing optional fields and nulls. A body that is not JSON at all is a <see cref="JsonException"/>.
/// </summary>
public static class RemoteWesAnswers
{
    public static string? RunId(string body) => Parse(body) is JsonObject root ? Text(root["run_id"]) ?? Text(root["id"]) : null;

    /// <summary>GET /runs with each listed run's wes.forwarded_run_id tag (WES 1.1 lists each run's tags; null when it shows none).</summary>
    public static RemotePage<(string? RunId, string? ForwardedRunId)> Tagged(string body)
    {
        var root = Parse(body) as JsonObject;
        var runs = ((root?["runs"] ?? root?["workflows"]) as JsonArray)?.OfType<JsonObject>()
            .Select(r => (Text(r["run_id"]) ?? Text(r["id"]), r["tags"] is JsonObject tags ? Text(tags["wes.forwarded_run_id"]) : null))
            .ToList() ?? [];
        return new RemotePage<(string?, string?)>(runs, NonEmpty(Text(root?["next_page_token"])));
    }

    /// <summary>The start of a body, on one line, for a message.</summary>
    public static string Start(string body) =>
        string.IsNullOrWhiteSpace(body) ? "an empty body" : $"'{OneLine(body.Length > 200 ? body[..200] + "…" : body)}'";

    /// <summary>A state by its WES name, in any case; "CANCELLED" is read as CANCELED; anything else as UNKNOWN.</summary>
    public static RunState State(JsonNode? node)
    {
        var name = Text(node)?.Trim().ToUpperInvariant();
        return name == "CANCELLED" ? RunState.Canceled : name is null ? RunState.Unknown : RunStateNames.ParseWes(name);
    }

    public static RunState Status(string body) => State((Parse(body) as JsonObject ?? throw new JsonException("the status is not a JSON object"))["state"]);

    public static RemoteRunLog RunLog(string body)
    {
        var root = Parse(body) as JsonObject ?? throw new JsonException("the run log is not a JSON object");
        var taskLogs = root["task_logs"] as JsonArray;
        return new RemoteRunLog(
            State(root["state"]),
            root["outputs"] as JsonObject,
            Log(root["run_log"] as JsonObject),
            taskLogs?.OfType<JsonObject>().Select(Log).OfType<RemoteLog>().ToList());
    }

    /// <summary>GET /runs/{id}/tasks (WES 1.1): the list is "task_logs", or "tasks" as some servers name it.</summary>
    public static RemotePage<RemoteLog> Tasks(string body)
    {
        var root = Parse(body) as JsonObject;
        var list = (root?["task_logs"] ?? root?["tasks"]) as JsonArray;
        return new RemotePage<RemoteLog>(list?.OfType<JsonObject>().Select(Log).OfType<RemoteLog>().ToList() ?? [], NonEmpty(Text(root?["next_page_token"])));
    }

    /// <summary>GET /runs: "runs" (WES 1.x) or "workflows" (older servers); each entry's run_id and state.</summary>
    public static RemotePage<(string RunId, RunState State)> Runs(string body)
    {
        var root = Parse(body) as JsonObject;
        var list = (root?["runs"] ?? root?["workflows"]) as JsonArray;
        var runs = list?.OfType<JsonObject>()
            .Select(r => (RunId: Text(r["run_id"]) ?? Text(r["id"]), State: State(r["state"])))
            .Where(r => r.RunId is not null)
            .Select(r => (r.RunId!, r.State)).ToList() ?? [];
        return new RemotePage<(string, RunState)>(runs, NonEmpty(Text(root?["next_page_token"])));
    }

    /// <summary>Versions as WES 1.1 objects ({"workflow_engine_version": [..]}), WES 1.0 strings, bare lists, or null.</summary>
    public static RemoteServiceInfo ServiceInfo(string body)
    {
        var root = Parse(body) as JsonObject ?? throw new JsonException("service-info is not a JSON object");
        return new RemoteServiceInfo(VersionMap(root["workflow_type_versions"]), VersionMap(root["workflow_engine_versions"]));
    }

    public static RemotePage<RemoteOutputFile> Outputs(string body)
    {
        var root = Parse(body) as JsonObject;
        var files = ((root?["files"] ?? root?["outputs"]) as JsonArray)?.OfType<JsonObject>()
            .Select(f => new RemoteOutputFile(Text(f["path"]) ?? "", Text(f["url"])))
            .Where(f => f.Path.Length > 0).ToList() ?? [];
        return new RemotePage<RemoteOutputFile>(files, NonEmpty(Text(root?["next_page_token"])));
    }

    /// <summary>A link from an answer made absolute against the remote's base URL; null when it is not an http(s) link.</summary>
    public static Uri? Link(Uri baseUrl, string? link)
    {
        if (string.IsNullOrWhiteSpace(link) || !Uri.TryCreate(baseUrl, link.Trim(), out var uri))
        {
            return null;
        }

        return uri.Scheme is "http" or "https" ? uri : null;
    }

    /// <summary>The "msg" of a WES ErrorResponse, else the start of the body, on one line.</summary>
    public static string ErrorMessage(string body)
    {
        try
        {
            if (Parse(body) is JsonObject error && Text(error["msg"]) is { Length: > 0 } msg)
            {
                return OneLine(msg);
            }
        }
        catch (JsonException)
        {
        }

        return string.IsNullOrWhiteSpace(body) ? "no message" : OneLine(body.Length > 300 ? body[..300] + "…" : body);
    }

    private static RemoteLog? Log(JsonObject? log) => log is null ? null : new RemoteLog(
        Text(log["name"]),
        log["cmd"] is JsonArray cmd ? cmd.Select(Text).OfType<string>().ToList() : Text(log["cmd"]) is { } line ? [line] : null,
        Time(log["start_time"]), Time(log["end_time"]),
        Text(log["stdout"]), Text(log["stderr"]),
        (int?)Number(log["exit_code"]),
        log["system_logs"] is JsonArray lines ? lines.Select(Text).OfType<string>().ToList() : [],
        Text(log["id"]));

    private static IReadOnlyDictionary<string, IReadOnlyList<string>> VersionMap(JsonNode? node) =>
        (node as JsonObject)?.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)Versions(p.Value).Distinct().ToList(), StringComparer.Ordinal)
        ?? new Dictionary<string, IReadOnlyList<string>>();

    private static IEnumerable<string> Versions(JsonNode? node) => node switch
    {
        JsonArray list => list.SelectMany(Versions),
        // The object's lists, whatever the server named them (workflow_type_version, workflow_engine_version).
        JsonObject obj => obj.SelectMany(p => Versions(p.Value)),
        JsonValue => Text(node) is { } text ? [text] : [],
        _ => [],
    };

    /// <summary>Duplicate keys and text that is not valid Unicode fail here, as a <see cref="JsonException"/>, not on first use.</summary>
    private static JsonNode? Parse(string body) => Api.StrictJson.Parse(body);

    /// <summary>A string, or a number or boolean as its text; null for null, objects and arrays.</summary>
    private static string? Text(JsonNode? node) => node is JsonValue value
        ? value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.ToJsonString(),
            _ => null,
        }
        : null;

    private static long? Number(JsonNode? node) =>
        long.TryParse(Text(node), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>ISO 8601 in any of the forms servers send (with or without zone or fraction); unzoned is UTC.</summary>
    private static long? Time(JsonNode? node) =>
        DateTimeOffset.TryParse(Text(node), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUnixTimeMilliseconds()
            : null;

    private static string? NonEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
