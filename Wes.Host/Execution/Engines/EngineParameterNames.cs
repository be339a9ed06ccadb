using System.Text.Json.Nodes;

namespace Wes.Execution.Engines;

/// <summary>
/// service-info names each parameter "engine:parameter" (e.g. "snakemake:cores") because the spec's list has no engine
/// field. A request may use that name or the bare one, and clients spell the bare one as "cores", "--cores",
/// "relax-path-checks" or "batch_system": dashes, underscores and case do not matter.
/// </summary>
public static class EngineParameterNames
{
    public const char EngineSeparator = ':';

    public static string Qualified(IWorkflowEngine engine, EngineParameter parameter) =>
        engine.Name + EngineSeparator + parameter.Name;

    public static string Normalize(string name) =>
        name.Trim().TrimStart('-').Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

    /// <summary>The engine a qualified request name names ("toil" for "toil:batchSystem"), or null for a bare name.</summary>
    public static string? Owner(string requestName)
    {
        var colon = requestName.IndexOf(EngineSeparator);
        return colon < 0 ? null : requestName[..colon].Trim().TrimStart('-');
    }

    /// <summary>The parameter of <paramref name="engine"/> a request name means, or null if it means none of them.</summary>
    public static EngineParameter? Find(IWorkflowEngine engine, string requestName)
    {
        var owner = Owner(requestName);
        if (owner is not null && !string.Equals(owner, engine.Name, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var bare = Normalize(owner is null ? requestName : requestName[(requestName.IndexOf(EngineSeparator) + 1)..]);
        return engine.Parameters.FirstOrDefault(p => Normalize(p.Name) == bare);
    }

    /// <summary>The workflow_engine_parameters of a stored request, keyed by the engine's declared names.</summary>
    public static IReadOnlyDictionary<string, string> FromRequest(string requestJson, IWorkflowEngine engine)
    {
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        if (JsonNode.Parse(requestJson)?["workflow_engine_parameters"] is JsonObject parameters)
        {
            foreach (var (name, value) in parameters)
            {
                // Submission refused every name that matches nothing, so a miss here is a request from before a rename.
                if (Find(engine, name) is { } declared)
                {
                    resolved[declared.Name] = ValueText(value);
                }
            }
        }

        return resolved;
    }

    /// <summary>
    /// Booleans compare as "true"/"false" whether the client sent true, "true" or "True"; nothing is trimmed, so
    /// "true\n" stays what it is and is refused.
    /// </summary>
    public static string ValueText(JsonNode? value)
    {
        var text = value is JsonValue scalar && scalar.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "";
        return text.Equals("true", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase)
            ? text.ToLowerInvariant()
            : text;
    }
}
