using System.Text.Json.Nodes;
using Wes.Execution;
using Wes.Execution.Engines;

namespace Wes.Api;

/// <summary>
/// The files workflow_params may point at: a relative path stays inside the run's folder (it names an attachment), an
/// http(s) URL is left to the engine, and a server path (a file:// URL, or an absolute CWL path) must lie under one of
/// the allowed roots (WES_ALLOWED_FILE_ROOTS, none by default), after every link on the way is resolved.
/// </summary>
public static class InputFileRules
{
    private const string RunFolder = "/wes-run/exe";

    public static IEnumerable<string> Problems(JsonNode? node, IReadOnlyList<string> allowedRoots, string where = "workflow_params") =>
        WorkflowParamsStrings.In(node, where).SelectMany(text => text.IsCwlFileReference
            ? FileReferenceProblems(text.Value, allowedRoots, text.Where)
            // Outside CWL File objects only file:// URLs are taken for files; other text is the workflow's business.
            : FileUrls.LocalPath(text.Value) is { } local ? Maybe(ServerPathProblem(text.Value, local, allowedRoots, text.Where)) : []);

    /// <summary>
    /// CWL runners load the params file with schema-salad, which obeys directives in it: $include and $import read
    /// another file (any the server's user can read, past every check here), $mixin merges one in, $schemas fetches
    /// documents, and $base or $namespaces change what relative and prefixed locations resolve to. No CWL input or
    /// record field is named with a '$', so every such key is refused rather than each directive judged.
    /// </summary>
    public static IEnumerable<string> CwlDirectiveProblems(JsonNode? node) =>
        from entry in WorkflowParamsStrings.Keys(node)
        where entry.Key.StartsWith('$')
        select $"{entry.Where}: keys starting with '$' ($include, $import, $mixin, $schemas, $base, $namespaces, ...) are " +
            "directives the CWL runner would follow to read other files, so they are not accepted in workflow_params; " +
            "put the value itself in the request, or attach the file and give it as a File.";

    private static IEnumerable<string> FileReferenceProblems(string reference, IReadOnlyList<string> allowedRoots, string where)
    {
        if (HasControlCharacter(reference))
        {
            return [ControlCharacterProblem(where)];
        }

        if (FileUrls.LocalPath(reference) is { } local)
        {
            return Maybe(ServerPathProblem(reference, local, allowedRoots, where));
        }

        if (reference.StartsWith('/'))
        {
            return Maybe(ServerPathProblem(reference, reference, allowedRoots, where));
        }

        if (Uri.TryCreate(reference, UriKind.Absolute, out var uri))
        {
            return uri.Scheme is "http" or "https"
                ? []
                : [$"{where}: scheme '{uri.Scheme}' is not supported for input files; use a relative path to an attachment, an http(s) URL, or a file:// URL under an allowed root."];
        }

        // "http://a..b/x" does not parse, but it is no relative path either: the engine's own URL parser decides what it reaches.
        var colon = reference.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && Uri.CheckSchemeName(reference[..colon]))
        {
            return [$"{where}: '{reference}' is not a valid URL."];
        }

        var full = Path.GetFullPath(Path.Combine(RunFolder, Uri.UnescapeDataString(reference)));
        return full.StartsWith(RunFolder + "/", StringComparison.Ordinal)
            ? []
            : [$"{where}: '{reference}' leaves the run's folder; relative input paths must name attached files."];
    }

    private static string? ServerPathProblem(string reference, string localPath, IReadOnlyList<string> allowedRoots, string where)
    {
        // A NUL cannot be part of a file name; the path APIs would throw on it.
        if (HasControlCharacter(localPath))
        {
            return ControlCharacterProblem(where);
        }

        if (allowedRoots.Count == 0)
        {
            return $"{where}: '{reference}' is a file on the server, and this server allows none (WES_ALLOWED_FILE_ROOTS is empty); attach the file or give an http(s) URL.";
        }

        var real = PathConfinement.RealPath(localPath);
        if (real is null)
        {
            return $"{where}: '{reference}' does not exist on the server.";
        }

        return allowedRoots.Select(PathConfinement.RealPath).Any(root => root is not null && PathConfinement.IsUnder(root, real))
            ? null
            : $"{where}: '{reference}' is outside the folders this server allows inputs from ({string.Join(", ", allowedRoots)}).";
    }

    private static bool HasControlCharacter(string reference) =>
        reference.Any(char.IsControl) || Uri.UnescapeDataString(reference).Any(char.IsControl);

    private static string ControlCharacterProblem(string where) => $"{where}: a file reference contains a NUL or control character.";

    private static IEnumerable<string> Maybe(string? problem) => problem is null ? [] : [problem];
}
