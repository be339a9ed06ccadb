using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Wes.Api;

// The WES 1.1 response shapes. Names become snake_case through the JSON options; null members are omitted.

public sealed record ErrorResponse(string Msg, int StatusCode);

/// <summary>RunWorkflow's fields, for the OpenAPI document; multipart sends the objects as JSON text.</summary>
public sealed record RunRequestBody(
    JsonObject? WorkflowParams, string WorkflowType, string WorkflowTypeVersion, IReadOnlyDictionary<string, string>? Tags,
    IReadOnlyDictionary<string, string>? WorkflowEngineParameters, string? WorkflowEngine, string? WorkflowEngineVersion,
    string WorkflowUrl);

public sealed record RunIdResponse(string RunId);

public sealed record RunStatus(string RunId, string State);

public sealed record RunSummary(string RunId, string State, string? StartTime, string? EndTime, IReadOnlyDictionary<string, string> Tags);

public sealed record RunListResponse(IReadOnlyList<RunSummary> Runs, string NextPageToken);

public sealed record Log
{
    public string? Name { get; init; }
    public IReadOnlyList<string>? Cmd { get; init; }
    public string? StartTime { get; init; }
    public string? EndTime { get; init; }
    public string? Stdout { get; init; }
    public string? Stderr { get; init; }
    public int? ExitCode { get; init; }
    public IReadOnlyList<string>? SystemLogs { get; init; }
}

public sealed record TaskLog
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public IReadOnlyList<string>? Cmd { get; init; }
    public string? StartTime { get; init; }
    public string? EndTime { get; init; }
    public string? Stdout { get; init; }
    public string? Stderr { get; init; }
    public int? ExitCode { get; init; }
    public IReadOnlyList<string>? SystemLogs { get; init; }
}

public sealed record RunLog
{
    public required string RunId { get; init; }
    public JsonObject? Request { get; init; }
    public required string State { get; init; }
    [JsonPropertyName("run_log")]
    public Log? RunLogEntry { get; init; }
    public string? TaskLogsUrl { get; init; }
    public JsonObject? Outputs { get; init; }
}

public sealed record TaskListResponse(IReadOnlyList<TaskLog> TaskLogs, string NextPageToken);

/// <summary>Extension: one file of a run's outputs folder, as GET /runs/{run_id}/outputs lists it.</summary>
public sealed record OutputFileEntry(string Path, long Size, string Modified, string Url);

/// <summary>Extension: a page of a run's output files, ordered by path.</summary>
public sealed record OutputListResponse(string RunId, IReadOnlyList<OutputFileEntry> Files, string NextPageToken);

public sealed record ServiceType(string Group, string Artifact, string Version);

public sealed record Organization(string Name, string Url);

public sealed record WorkflowTypeVersion(IReadOnlyList<string> WorkflowTypeVersionList)
{
    [JsonPropertyName("workflow_type_version")]
    public IReadOnlyList<string> WorkflowTypeVersionList { get; init; } = WorkflowTypeVersionList;
}

public sealed record WorkflowEngineVersion(IReadOnlyList<string> WorkflowEngineVersionList)
{
    [JsonPropertyName("workflow_engine_version")]
    public IReadOnlyList<string> WorkflowEngineVersionList { get; init; } = WorkflowEngineVersionList;
}

public sealed record DefaultWorkflowEngineParameter(string Name, string Type, string? DefaultValue);

public sealed record ServiceInfo
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required ServiceType Type { get; init; }
    public string? Description { get; init; }
    public required Organization Organization { get; init; }
    [JsonPropertyName("contactUrl")]
    public string? ContactUrl { get; init; }
    [JsonPropertyName("documentationUrl")]
    public string? DocumentationUrl { get; init; }
    public string? Environment { get; init; }
    public required string Version { get; init; }
    public required IReadOnlyDictionary<string, WorkflowTypeVersion> WorkflowTypeVersions { get; init; }
    public required IReadOnlyList<string> SupportedWesVersions { get; init; }
    public required IReadOnlyList<string> SupportedFilesystemProtocols { get; init; }
    public required IReadOnlyDictionary<string, WorkflowEngineVersion> WorkflowEngineVersions { get; init; }
    public required IReadOnlyList<DefaultWorkflowEngineParameter> DefaultWorkflowEngineParameters { get; init; }
    public required IReadOnlyDictionary<string, long> SystemStateCounts { get; init; }
    public required string AuthInstructionsUrl { get; init; }
    public required IReadOnlyDictionary<string, string> Tags { get; init; }
}
