using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Wes.Cli.Api;

// The WES 1.0/1.1 shapes as a client reads them: every field may be missing or null, because servers differ.
// Names map to snake_case through the serializer options in WesJson.

public sealed record ErrorBody(string? Msg, int? StatusCode);

public sealed record SubmittedRun(string? RunId);

public sealed record RunStatus(string? RunId, string? State);

public sealed record RunSummary(string? RunId, string? State, string? StartTime, string? EndTime, Dictionary<string, string>? Tags);

public sealed record RunListPage(List<RunSummary>? Runs, string? NextPageToken);

public sealed record LogEntry(
    string? Name, List<string>? Cmd, string? StartTime, string? EndTime, string? Stdout, string? Stderr, int? ExitCode,
    List<string>? SystemLogs);

public sealed record TaskLogEntry(
    string? Id, string? Name, List<string>? Cmd, string? StartTime, string? EndTime, string? Stdout, string? Stderr, int? ExitCode,
    List<string>? SystemLogs);

public sealed record RunLog(
    string? RunId, JsonObject? Request, string? State, [property: JsonPropertyName("run_log")] LogEntry? RunLogEntry,
    List<TaskLogEntry>? TaskLogs, string? TaskLogsUrl, JsonObject? Outputs);

public sealed record TaskListPage(List<TaskLogEntry>? TaskLogs, string? NextPageToken);

/// <summary>This server's extension: one file of a run's outputs folder.</summary>
public sealed record OutputFile(string? Path, long? Size, string? Modified, string? Url);

public sealed record OutputListPage(string? RunId, List<OutputFile>? Files, string? NextPageToken);

public sealed record ServiceType(string? Group, string? Artifact, string? Version);

public sealed record Organization(string? Name, string? Url);

public sealed record ServiceInfo(
    string? Id, string? Name, ServiceType? Type, string? Description, Organization? Organization, string? Version,
    [property: JsonConverter(typeof(VersionListMapConverter))] Dictionary<string, List<string>>? WorkflowTypeVersions,
    List<string>? SupportedWesVersions, List<string>? SupportedFilesystemProtocols,
    [property: JsonConverter(typeof(VersionListMapConverter))] Dictionary<string, List<string>>? WorkflowEngineVersions,
    Dictionary<string, long>? SystemStateCounts, string? AuthInstructionsUrl, Dictionary<string, string>? Tags);

/// <summary>A typed answer with the server's own JSON text, which --json prints unchanged.</summary>
public sealed record ApiResult<T>(T Value, string Json);
