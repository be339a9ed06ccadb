using System.Text.Json;
using System.Text.Json.Nodes;

namespace Wes.Api;

/// <summary>
/// Parses client JSON and materialises every object and string at once, so a duplicate property name or text that
/// is not valid UTF-8 (or holds a lone surrogate escape) is a JsonException (a 400) here, rather than an exception
/// the first time some later code reads the value.
/// </summary>
public static class StrictJson
{
    public static JsonNode? Parse(string text) => Checked(JsonNode.Parse(text));

    public static async Task<JsonNode?> ParseAsync(Stream body, CancellationToken cancellationToken) =>
        Checked(await JsonNode.ParseAsync(body, cancellationToken: cancellationToken));

    private static JsonNode? Checked(JsonNode? node)
    {
        try
        {
            Walk(node);
            return node;
        }
        catch (ArgumentException ex)
        {
            throw new JsonException($"a property name appears twice in one object ({ex.Message})", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new JsonException("it holds text that is not valid Unicode (invalid UTF-8, or a lone surrogate escape)", ex);
        }
    }

    private static void Walk(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, value) in obj)
                {
                    Walk(value);
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Walk(item);
                }

                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                _ = value.GetValue<string>();
                break;
        }
    }
}
