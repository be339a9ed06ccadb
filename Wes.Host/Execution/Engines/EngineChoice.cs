namespace Wes.Execution.Engines;

/// <summary>Which engine runs a request: its workflow type in any spelling the engines declare, then the engine.</summary>
public static class EngineChoice
{
    /// <summary>The WES spelling of a type ("cwl", "commonwl" → "CWL"; "Snakemake" → "SMK"), or the text upper-cased.</summary>
    public static string? CanonicalType(string? type, IEnumerable<IWorkflowEngine> engines)
    {
        if (type is null)
        {
            return null;
        }

        var trimmed = type.Trim();
        return engines.FirstOrDefault(e => string.Equals(e.WorkflowType, trimmed, StringComparison.OrdinalIgnoreCase)
                || e.WorkflowTypeAliases.Contains(trimmed, StringComparer.OrdinalIgnoreCase))?.WorkflowType
            ?? trimmed.ToUpperInvariant();
    }

    /// <summary>
    /// The installed engine for <paramref name="type"/>: the one named, or else the type's default engine, or else (when
    /// the default is not installed) the first other engine for the type. Null when there is none.
    /// </summary>
    public static AvailableEngine? Resolve(string? type, string? engineName, IEnumerable<AvailableEngine> available)
    {
        var forType = available.Where(a => a.Engine.WorkflowType == type);
        return engineName is null
            ? forType.OrderByDescending(a => a.Engine.IsDefaultForType).FirstOrDefault()
            : forType.FirstOrDefault(a => string.Equals(a.Engine.Name, engineName.Trim(), StringComparison.OrdinalIgnoreCase));
    }
}
