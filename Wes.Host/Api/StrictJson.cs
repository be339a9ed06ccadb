using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wes.Security;

namespace Wes.Api;

/// <summary>
/// Parses client JSON and materialises every object and string at once, so a duplicate property name or text that
/// is not valid UTF-8 (or holds a lone surrogate escape) is a JsonException (a 400) here, rather than an exception
/// the first time some later code reads the value.
/// </summary>
public static class StrictJson
{
    public static JsonNode? Parse(string text) => Checked(JsonNode.Parse(text));

    /// <summary>Bytes already passed through <see cref="JsonBudget.CheckBody"/>, so within its depth.</summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8, int maxDepth) =>
        Checked(JsonNode.Parse(utf8, documentOptions: new JsonDocumentOptions { MaxDepth = maxDepth }));

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

/// <summary>
/// What one request's JSON may cost, checked by a forward-only scan of the raw bytes before any document is built:
/// a document holds some hundred bytes per value, so 30 MB of "0," would otherwise become a tree of over a gigabyte.
/// Depth counts from the RunRequest object, so a multipart field's JSON text starts one level down, as it would in a
/// JSON body; elements (values and property names) are counted across all of the request's JSON together.
/// </summary>
public sealed class JsonBudget(LimitOptions limits)
{
    private long _elements;

    /// <summary>A whole JSON body: depth, elements, and the raw size of each top-level field (Wes:Limits:MaxFieldBytes).</summary>
    public void CheckBody(ReadOnlySpan<byte> utf8) => Scan(utf8, depthBefore: 0, measureFields: true);

    /// <summary>
    /// The JSON text of one field (a multipart part, or a JSON-body field sent as a string). Text that is not JSON is
    /// left for the field's parser to report with the field's name.
    /// </summary>
    public void CheckText(string text)
    {
        try
        {
            Scan(Encoding.UTF8.GetBytes(text), depthBefore: 1, measureFields: false);
        }
        catch (JsonException)
        {
        }
    }

    private void Scan(ReadOnlySpan<byte> utf8, int depthBefore, bool measureFields)
    {
        // One level of room, so that this scan, not the reader, refuses a document one level too deep.
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = limits.MaxJsonDepth + 1 });
        string? field = null;
        long fieldStart = -1;
        while (reader.Read())
        {
            var token = reader.TokenType;
            if (token is JsonTokenType.StartObject or JsonTokenType.StartArray && depthBefore + reader.CurrentDepth + 1 > limits.MaxJsonDepth)
            {
                throw new ApiException(StatusCodes.Status400BadRequest,
                    $"The request's JSON is nested more than {limits.MaxJsonDepth} levels deep (Wes:Limits:MaxJsonDepth).");
            }

            if (token is not (JsonTokenType.EndObject or JsonTokenType.EndArray) && ++_elements > limits.MaxJsonElements)
            {
                throw new ApiException(StatusCodes.Status413PayloadTooLarge,
                    $"The request's JSON holds more than {limits.MaxJsonElements} values and property names (Wes:Limits:MaxJsonElements).");
            }

            if (!measureFields)
            {
                continue;
            }

            if (token == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
            {
                field = FieldName(ref reader);
                fieldStart = -1;
            }
            else if (field is not null && reader.CurrentDepth >= 1)
            {
                fieldStart = fieldStart < 0 ? reader.TokenStartIndex : fieldStart;
                if (reader.BytesConsumed - fieldStart > limits.MaxFieldBytes)
                {
                    throw RunSubmissionReader.FieldTooLarge(field, limits);
                }
            }
        }
    }

    /// <summary>A top-level name, whose size the field limit bounds too, since a document would hold it as text.</summary>
    private string FieldName(ref Utf8JsonReader reader)
    {
        if (reader.BytesConsumed - reader.TokenStartIndex > limits.MaxFieldBytes)
        {
            throw new ApiException(StatusCodes.Status413PayloadTooLarge,
                $"A field name is longer than {limits.MaxFieldBytes} bytes (Wes:Limits:MaxFieldBytes).");
        }

        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException ex)
        {
            throw new JsonException("a property name is not valid Unicode", ex);
        }
    }
}
