using System.Text.RegularExpressions;

namespace Wes.Cli.Submission;

/// <summary>
/// The workflow_type and workflow_type_version a workflow file implies, in the spelling WES servers accept
/// (CWL, SMK, NFL, WDL). A version the file does not state is left null, for service-info to settle.
/// </summary>
public static partial class WorkflowTypes
{
    public static (string? Type, string? Version) Infer(string workflow, string? content)
    {
        var path = Uri.TryCreate(workflow, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri.AbsolutePath : workflow;
        var name = Path.GetFileName(path);
        if (name.EndsWith(".cwl", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".cwl.json", StringComparison.OrdinalIgnoreCase))
        {
            return ("CWL", content is null ? null : Match(CwlVersion(), content));
        }

        if (name.Equals("Snakefile", StringComparison.Ordinal) || name.EndsWith(".smk", StringComparison.OrdinalIgnoreCase))
        {
            // Snakefiles state no language version; "1.0" is what WES servers list for SMK.
            return ("SMK", "1.0");
        }

        if (name.EndsWith(".nf", StringComparison.OrdinalIgnoreCase))
        {
            return ("NFL", "DSL2");
        }

        if (name.EndsWith(".wdl", StringComparison.OrdinalIgnoreCase))
        {
            // A WDL file without a version line is draft-2 by the language's own rule.
            return ("WDL", content is null ? null : Match(WdlVersion(), content) ?? "draft-2");
        }

        return (null, null);
    }

    private static string? Match(Regex regex, string content) =>
        regex.Match(content) is { Success: true } match ? match.Groups[1].Value : null;

    // Anywhere, not only at a line's start: a CWL file may be JSON on one line.
    [GeneratedRegex("""["']?cwlVersion["']?\s*:\s*["']?([A-Za-z0-9._-]+)""")]
    private static partial Regex CwlVersion();

    [GeneratedRegex(@"^\s*version\s+([A-Za-z0-9._-]+)", RegexOptions.Multiline)]
    private static partial Regex WdlVersion();
}
