using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Wes.Cli.Submission;

/// <summary>workflow_params from a JSON or YAML file plus -p key=value pairs, which win over the file.</summary>
public static class WorkflowParams
{
    public static JsonObject Build(string? file, IEnumerable<string> pairs)
    {
        var result = file is null ? [] : ReadFile(file);
        foreach (var (key, value) in KeyValues.Parse(pairs, "-p"))
        {
            result[key] = ValueOf(value);
        }

        return result;
    }

    /// <summary>A value that is valid JSON (3, true, {"a":1}, "quoted") is taken as JSON; anything else is a string.</summary>
    public static JsonNode? ValueOf(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    private static JsonObject ReadFile(string file)
    {
        if (!File.Exists(file))
        {
            throw new CliUsageException($"The params file '{file}' does not exist.");
        }

        var text = File.ReadAllText(file);
        var extension = Path.GetExtension(file).ToLowerInvariant();
        var node = extension is ".yaml" or ".yml" ? FromYaml(text, file) : ParseJson(text, file);
        return node as JsonObject ?? throw new CliUsageException($"The params file '{file}' must hold an object (name: value pairs).");
    }

    private static JsonNode? ParseJson(string text, string file)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new CliUsageException($"The params file '{file}' is not valid JSON: {ex.Message}");
        }
    }

    private static JsonNode? FromYaml(string text, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new CliUsageException($"The params file '{file}' is not valid YAML: {ex.Message}");
        }

        return stream.Documents.Count == 0 ? new JsonObject() : Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value ?? "", Convert(c.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    /// <summary>Plain scalars are typed as YAML 1.2's core schema types them; quoted ones stay strings.</summary>
    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is not ScalarStyle.Plain)
        {
            return JsonValue.Create(value);
        }

        return value switch
        {
            "" or "~" or "null" or "Null" or "NULL" => null,
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            _ when long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole) => JsonValue.Create(whole),
            _ when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) => JsonValue.Create(real),
            _ => JsonValue.Create(value),
        };
    }
}

/// <summary>key=value arguments (-p, --tag); the first '=' separates them.</summary>
public static class KeyValues
{
    public static IEnumerable<(string Key, string Value)> Parse(IEnumerable<string> pairs, string option)
    {
        foreach (var pair in pairs)
        {
            var cut = pair.IndexOf('=', StringComparison.Ordinal);
            if (cut <= 0)
            {
                throw new CliUsageException($"{option} '{pair}' must be key=value.");
            }

            yield return (pair[..cut], pair[(cut + 1)..]);
        }
    }
}
