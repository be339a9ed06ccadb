using System.Text.Json;
using System.Text.Json.Nodes;

namespace Wes.Execution.Engines.Cwl;

/// <summary>What every CWL engine shares: the type's spellings and versions, and the output object printed on stdout.</summary>
public static class CwlLanguage
{
    public const string WorkflowType = "CWL";
    public static IReadOnlyList<string> Aliases { get; } = ["commonwl"];
    public static IReadOnlyList<string> Versions { get; } = ["v1.0", "v1.1", "v1.2"];

    /// <summary>"1.2" and "v1.2" are the same version.</summary>
    public static string? NormalizeVersion(string version)
    {
        var canonical = version.StartsWith('v') ? version : "v" + version;
        return Versions.Contains(canonical, StringComparer.Ordinal) ? canonical : null;
    }

    /// <summary>CWL runners print the workflow's output object on stdout when they finish.</summary>
    public static JsonObject? ReadOutputObject(RunWorkspace workspace)
    {
        try
        {
            return JsonNode.Parse(RunWorkspace.ReadShared(workspace.StdoutPath)) as JsonObject;
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            return null;
        }
    }
}
