using System.Text.Json.Nodes;
using Wes.Execution.Engines;

namespace Wes.Api;

/// <summary>Links to the output download endpoint, and the rewriting of output locations to those links.</summary>
public static class OutputLinks
{
    /// <summary>The URL of one output file: each path segment escaped on its own, the slashes kept.</summary>
    public static string Url(string outputsUrl, string relativePath) =>
        outputsUrl + "/" + string.Join('/', relativePath.Split('/').Select(Uri.EscapeDataString));

    /// <summary>Replaces every "location" that is a file:// URL inside one of <paramref name="folders"/> by its download URL.</summary>
    public static void Rewrite(JsonNode? node, IReadOnlyList<string> folders, string outputsUrl)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["location"] is JsonValue value && value.TryGetValue<string>(out var location)
                    && FileUrls.LocalPath(location) is { } path
                    && folders.Select(f => f.TrimEnd('/') + "/").FirstOrDefault(f => path.StartsWith(f, StringComparison.Ordinal)) is { } folder)
                {
                    obj["location"] = Url(outputsUrl, path[folder.Length..]);
                }

                foreach (var (_, child) in obj.ToList())
                {
                    Rewrite(child, folders, outputsUrl);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Rewrite(child, folders, outputsUrl);
                }

                break;
        }
    }
}
