using System.Text.Json.Nodes;
using YamlDotNet.Serialization;

namespace Wes.Tests.Support;

/// <summary>
/// Checks a JSON response against a schema of the WES 1.1.0 OpenAPI document: required fields, property names,
/// types, enums (state spellings), and no null where the spec has none. Enough of JSON Schema for this spec.
/// </summary>
public static class SpecContract
{
    private const string ServiceInfoRef = "https://raw.githubusercontent.com/ga4gh-discovery/ga4gh-service-info/v1.0.0/service-info.yaml#/components/schemas/";
    private static readonly JsonObject Wes = Load("workflow_execution_service.openapi.yaml");
    private static readonly JsonObject ServiceInfo = Load("service-info.yaml");

    public static void AssertMatches(JsonNode? value, string schemaName)
    {
        var problems = new List<string>();
        Check(value, Schema("#/components/schemas/" + schemaName), "$", problems);
        Assert.True(problems.Count == 0, $"{schemaName} does not match the spec:\n  {string.Join("\n  ", problems)}\n{value?.ToJsonString()}");
    }

    public static IReadOnlyList<string> StateNames() =>
        Schema("#/components/schemas/State")["enum"]!.AsArray().Select(s => s!.GetValue<string>()).ToList();

    private static void Check(JsonNode? value, JsonObject schema, string path, List<string> problems, bool strict = true)
    {
        if (schema["$ref"] is { } reference)
        {
            Check(value, Schema(reference.GetValue<string>()), path, problems, strict);
            return;
        }

        if (value is null)
        {
            if (schema["nullable"]?.GetValue<string>() != "true")
            {
                problems.Add($"{path} is null; the spec has no null here");
            }

            return;
        }

        if (schema["allOf"] is JsonArray allOf)
        {
            foreach (var part in allOf)
            {
                // Each part declares only some properties; the unknown-property check runs once, on their union.
                Check(value, part!.AsObject(), path, problems, strict: false);
            }

            CheckRequired(value, schema, path, problems);

            if (strict)
            {
                CheckUnknownProperties(value, schema, path, problems);
            }

            return;
        }

        if (schema["anyOf"] is JsonArray anyOf)
        {
            var attempts = anyOf.Select(option => { var p = new List<string>(); Check(value, option!.AsObject(), path, p); return p; }).ToList();
            if (attempts.All(p => p.Count > 0))
            {
                problems.AddRange(attempts.OrderBy(p => p.Count).First());
            }

            return;
        }

        var type = schema["type"]?.GetValue<string>();
        switch (type)
        {
            case "object" or null when schema["properties"] is not null || schema["additionalProperties"] is not null || type == "object":
                CheckObject(value, schema, path, problems, strict);
                break;
            case "array":
                if (value is not JsonArray array)
                {
                    problems.Add($"{path} should be an array");
                    break;
                }

                for (var i = 0; i < array.Count; i++)
                {
                    Check(array[i], schema["items"]!.AsObject(), $"{path}[{i}]", problems);
                }

                break;
            case "string":
                if (value is not JsonValue s || !s.TryGetValue<string>(out var text))
                {
                    problems.Add($"{path} should be a string");
                }
                else if (schema["enum"] is JsonArray values && values.All(v => v!.GetValue<string>() != text))
                {
                    problems.Add($"{path} = '{text}' is not one of the spec's values");
                }

                break;
            case "integer":
                if (value is not JsonValue n || !n.TryGetValue<long>(out _))
                {
                    problems.Add($"{path} should be an integer");
                }

                break;
            case "boolean":
                if (value is not JsonValue b || !b.TryGetValue<bool>(out _))
                {
                    problems.Add($"{path} should be a boolean");
                }

                break;
        }
    }

    private static void CheckObject(JsonNode value, JsonObject schema, string path, List<string> problems, bool strict)
    {
        if (value is not JsonObject obj)
        {
            problems.Add($"{path} should be an object");
            return;
        }

        CheckRequired(obj, schema, path, problems);

        var properties = schema["properties"] as JsonObject;
        foreach (var (name, child) in obj)
        {
            if (properties?[name] is JsonObject propertySchema)
            {
                Check(child, propertySchema, $"{path}.{name}", problems);
            }
            else if (schema["additionalProperties"] is JsonObject additional)
            {
                Check(child, additional, $"{path}.{name}", problems);
            }
        }

        if (strict)
        {
            CheckUnknownProperties(value, schema, path, problems);
        }
    }

    private static void CheckRequired(JsonNode value, JsonObject schema, string path, List<string> problems)
    {
        foreach (var required in schema["required"]?.AsArray() ?? [])
        {
            if (value is JsonObject obj && !obj.ContainsKey(required!.GetValue<string>()))
            {
                problems.Add($"{path}.{required} is required but missing");
            }
        }
    }

    /// <summary>A property no part of the schema declares is a misspelling a client would not read.</summary>
    private static void CheckUnknownProperties(JsonNode value, JsonObject schema, string path, List<string> problems)
    {
        if (value is not JsonObject obj || schema["additionalProperties"] is not null)
        {
            return;
        }

        var declared = DeclaredProperties(schema);
        if (declared.Count == 0)
        {
            return;
        }

        foreach (var (name, _) in obj)
        {
            if (!declared.Contains(name))
            {
                problems.Add($"{path}.{name} is not a property the spec declares");
            }
        }
    }

    private static HashSet<string> DeclaredProperties(JsonObject schema)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (schema["$ref"] is { } reference)
        {
            names.UnionWith(DeclaredProperties(Schema(reference.GetValue<string>())));
        }

        foreach (var (name, _) in schema["properties"] as JsonObject ?? [])
        {
            names.Add(name);
        }

        foreach (var part in schema["allOf"] as JsonArray ?? [])
        {
            names.UnionWith(DeclaredProperties(part!.AsObject()));
        }

        return names;
    }

    private static JsonObject Schema(string reference)
    {
        // Local references inside service-info.yaml (ServiceType) are looked up there when the WES file lacks them.
        var pointer = reference.StartsWith(ServiceInfoRef, StringComparison.Ordinal)
            ? "#/components/schemas/" + reference[ServiceInfoRef.Length..]
            : reference;
        var documents = reference.StartsWith(ServiceInfoRef, StringComparison.Ordinal) ? new[] { ServiceInfo } : [Wes, ServiceInfo];
        foreach (var document in documents)
        {
            JsonNode? node = document;
            foreach (var segment in pointer.TrimStart('#', '/').Split('/'))
            {
                node = node?[segment];
            }

            if (node is JsonObject schema)
            {
                return schema;
            }
        }

        throw new KeyNotFoundException($"{reference} is not in the spec");
    }

    private static JsonObject Load(string file)
    {
        var yaml = new DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Spec", file)));
        return ToJson(yaml)!.AsObject();
    }

    private static JsonNode? ToJson(object? yaml) => yaml switch
    {
        Dictionary<object, object?> map => new JsonObject(map.Select(pair => KeyValuePair.Create(pair.Key.ToString()!, ToJson(pair.Value)))),
        List<object?> list => new JsonArray(list.Select(ToJson).ToArray()),
        null => null,
        _ => JsonValue.Create(yaml.ToString()),
    };
}
