using System.Text.Json.Nodes;

namespace Wes.Execution.Engines;

/// <summary>Clients spell engine parameters as "parallel", "--parallel" or "relax-path-checks"; all mean one name.</summary>
public static class EngineParameterNames
{
    public static string Normalize(string name) => name.TrimStart('-').Replace('-', '_').ToLowerInvariant();

    /// <summary>The normalised workflow_engine_parameters of a stored request.</summary>
    public static IReadOnlyDictionary<string, string> FromRequest(string requestJson)
    {
        var parameters = JsonNode.Parse(requestJson)?["workflow_engine_parameters"] as JsonObject;
        return parameters is null
            ? new Dictionary<string, string>()
            : parameters.ToDictionary(p => Normalize(p.Key), p => ValueText(p.Value), StringComparer.Ordinal);
    }

    /// <summary>Booleans compare as "true"/"false" whether the client sent true, "true" or "True".</summary>
    public static string ValueText(JsonNode? value)
    {
        var text = value is JsonValue scalar && scalar.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "";
        var trimmed = text.Trim();
        return trimmed.Equals("true", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("false", StringComparison.OrdinalIgnoreCase)
            ? trimmed.ToLowerInvariant()
            : text;
    }
}
