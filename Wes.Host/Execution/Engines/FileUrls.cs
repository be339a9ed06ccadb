using System.Text.Json.Nodes;

namespace Wes.Execution.Engines;

/// <summary>file:// URLs in workflow_params, for engines that read their params as plain paths.</summary>
public static class FileUrls
{
    /// <summary>The local path a file:// URL names (with %XX decoded), or null if the text is not one.</summary>
    public static string? LocalPath(string text) =>
        text.StartsWith("file:", StringComparison.OrdinalIgnoreCase) && Uri.TryCreate(text, UriKind.Absolute, out var uri)
            && uri.IsFile && (uri.Host.Length == 0 || uri.Host == "localhost")
            ? uri.LocalPath
            : null;

    /// <summary>A copy of <paramref name="node"/> in which every file:// string is replaced by its local path.</summary>
    public static JsonNode? ToPaths(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, ToPaths(p.Value)))),
        JsonArray array => new JsonArray(array.Select(ToPaths).ToArray()),
        JsonValue value when value.TryGetValue<string>(out var text) && LocalPath(text) is { } path => JsonValue.Create(path),
        _ => node?.DeepClone(),
    };
}
