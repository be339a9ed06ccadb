using System.Text.Json;
using System.Text.Json.Serialization;

namespace Wes.Cli.Api;

/// <summary>Lenient reading: snake_case names, numbers where strings are expected and the other way round.</summary>
public static class WesJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        Converters = { new LooseStringConverter() },
        WriteIndented = true,
    };

    public static T Read<T>(string json) where T : class =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException("The server answered null.");
}

/// <summary>Reads a string field that a server sent as a number, boolean or object (tags, ids) as its JSON text.</summary>
public sealed class LooseStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Null => null,
        _ => JsonDocument.ParseValue(ref reader).RootElement.GetRawText(),
    };

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>
/// workflow_type_versions and workflow_engine_versions as a name → versions map, whichever form a server sends:
/// {"x": {"workflow_engine_version": ["1"]}} (WES 1.1), {"x": "1"} (WES 1.0 servers), {"x": ["1"]} or {"x": null}.
/// </summary>
public sealed class VersionListMapConverter : JsonConverter<Dictionary<string, List<string>>>
{
    public override Dictionary<string, List<string>>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => Versions(p.Value), StringComparer.Ordinal);
    }

    private static List<string> Versions(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => [value.GetString()!],
        JsonValueKind.Number => [value.GetRawText()],
        JsonValueKind.Array => [.. value.EnumerateArray().SelectMany(Versions)],
        // The object's one list, whatever the server named it.
        JsonValueKind.Object => [.. value.EnumerateObject().SelectMany(p => Versions(p.Value))],
        _ => [],
    };

    public override void Write(Utf8JsonWriter writer, Dictionary<string, List<string>> value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, options);
}
