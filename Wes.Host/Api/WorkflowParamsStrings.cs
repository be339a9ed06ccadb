using System.Text.Json.Nodes;

namespace Wes.Api;

/// <summary>One string of workflow_params, where it is, and whether it is the location or path of a CWL File or Directory.</summary>
public sealed record ParamsString(string Where, string Value, bool IsCwlFileReference);

/// <summary>The one walk over workflow_params shared by the checks of the files and URLs it names.</summary>
public static class WorkflowParamsStrings
{
    public static IEnumerable<ParamsString> In(JsonNode? node, string where = "workflow_params")
    {
        switch (node)
        {
            case JsonObject obj:
                var isCwlFile = obj["class"] is JsonValue type && type.TryGetValue<string>(out var name) && name is "File" or "Directory";
                foreach (var (key, child) in obj)
                {
                    var path = $"{where}.{key}";
                    if (child is JsonValue value && value.TryGetValue<string>(out var text))
                    {
                        yield return new ParamsString(path, text, isCwlFile && key is "location" or "path");
                        continue;
                    }

                    foreach (var inner in In(child, path))
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    foreach (var inner in In(array[i], $"{where}[{i}]"))
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonValue value when value.TryGetValue<string>(out var text):
                yield return new ParamsString(where, text, false);
                break;
        }
    }

    /// <summary>Every property name in workflow_params, at any depth, with the path of its value.</summary>
    public static IEnumerable<(string Where, string Key)> Keys(JsonNode? node, string where = "workflow_params")
    {
        var children = node switch
        {
            JsonObject obj => obj.Select(pair => (Where: $"{where}.{pair.Key}", Key: (string?)pair.Key, Node: pair.Value)),
            JsonArray array => array.Select((item, i) => (Where: $"{where}[{i}]", Key: (string?)null, Node: item)),
            _ => [],
        };
        foreach (var (path, key, child) in children)
        {
            if (key is not null)
            {
                yield return (path, key);
            }

            foreach (var inner in Keys(child, path))
            {
                yield return inner;
            }
        }
    }
}
