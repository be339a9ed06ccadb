using System.Text.Json;
using System.Text.Json.Nodes;
using Wes.Execution.Engines;

namespace Wes.Api;

/// <summary>A JSON-object field of a submission: absent, an object, or present but unusable (with the reason).</summary>
public sealed record JsonField(JsonObject? Value, string? Error)
{
    public static JsonField Absent { get; } = new(null, null);

    /// <summary>Multipart sends each object as JSON text; JSON bodies send the object itself (or, from some clients, text).</summary>
    public static JsonField From(string name, JsonNode? node)
    {
        if (node is null)
        {
            return Absent;
        }

        if (node is JsonObject obj)
        {
            return new JsonField(obj, null);
        }

        if (node is JsonValue value && value.TryGetValue<string>(out var text))
        {
            return FromText(name, text);
        }

        return new JsonField(null, $"{name} must be a JSON object.");
    }

    public static JsonField FromText(string name, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Absent;
        }

        try
        {
            return StrictJson.Parse(text) is JsonObject obj
                ? new JsonField(obj, null)
                : new JsonField(null, $"{name} must be a JSON object.");
        }
        catch (JsonException ex)
        {
            return new JsonField(null, $"{name} is not valid JSON: {ex.Message}");
        }
    }
}

/// <summary>One uploaded file and the relative path it asked for.</summary>
public sealed record Attachment(string Name, IFormFile File);

/// <summary>A RunWorkflow request as read from either body type, before validation.</summary>
public sealed class RunSubmission
{
    public string? WorkflowType { get; init; }
    public string? WorkflowTypeVersion { get; init; }
    public string? WorkflowUrl { get; init; }
    public string? WorkflowEngine { get; init; }
    public string? WorkflowEngineVersion { get; init; }
    public JsonField WorkflowParams { get; init; } = JsonField.Absent;
    public JsonField Tags { get; init; } = JsonField.Absent;
    public JsonField WorkflowEngineParameters { get; init; } = JsonField.Absent;
    public IReadOnlyList<Attachment> Attachments { get; init; } = [];

    /// <summary>Problems found while reading the body (wrong JSON types and the like).</summary>
    public IReadOnlyList<string> ReadErrors { get; init; } = [];

    /// <summary>The engines this server can run, for the checks that depend on them.</summary>
    public IReadOnlyList<IWorkflowEngine> Engines { get; set; } = [];
    public IReadOnlyList<AvailableEngine> Available { get; set; } = [];

    /// <summary>workflow_type in WES spelling, whichever alias the client sent.</summary>
    public string? CanonicalType => EngineChoice.CanonicalType(WorkflowType, Engines);

    /// <summary>The installed engine this request runs on: the one it names, else the default one for its type.</summary>
    public AvailableEngine? ResolveEngine() => EngineChoice.Resolve(CanonicalType, WorkflowEngine, Available);

    /// <summary>The request as submitted, which RunLog.request returns.</summary>
    public JsonObject ToRequestJson()
    {
        var request = new JsonObject
        {
            ["workflow_params"] = WorkflowParams.Value?.DeepClone() ?? new JsonObject(),
            ["workflow_type"] = WorkflowType,
            ["workflow_type_version"] = WorkflowTypeVersion,
            ["tags"] = StringMap(Tags.Value),
        };
        if (WorkflowEngineParameters.Value is not null)
        {
            request["workflow_engine_parameters"] = StringMap(WorkflowEngineParameters.Value);
        }

        if (WorkflowEngine is not null)
        {
            request["workflow_engine"] = WorkflowEngine;
        }

        if (WorkflowEngineVersion is not null)
        {
            request["workflow_engine_version"] = WorkflowEngineVersion;
        }

        request["workflow_url"] = WorkflowUrl;
        return request;
    }

    /// <summary>Tags and engine parameters are string maps in the spec; scalars are kept as their text.</summary>
    public static JsonObject StringMap(JsonObject? source)
    {
        var map = new JsonObject();
        foreach (var (key, value) in source ?? [])
        {
            map[key] = value is JsonValue scalar && scalar.TryGetValue<string>(out var text) ? text : value?.ToJsonString();
        }

        return map;
    }
}
