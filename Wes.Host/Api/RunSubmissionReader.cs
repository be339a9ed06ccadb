using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Net.Http.Headers;
using Wes.Security;

namespace Wes.Api;

/// <summary>
/// Reads RunWorkflow from multipart/form-data (the spec's form: JSON-encoded text fields plus workflow_attachment
/// files) or from application/json with the same field names.
/// </summary>
public static class RunSubmissionReader
{
    public const string AttachmentField = "workflow_attachment";

    private static readonly string[] Fields =
    [
        "workflow_type", "workflow_type_version", "workflow_url", "workflow_engine", "workflow_engine_version",
        "workflow_params", "tags", "workflow_engine_parameters",
    ];

    // Field sizes are measured as sent, so non-ASCII text is not inflated into \u escapes.
    private static readonly JsonSerializerOptions AsSent = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<RunSubmission> ReadAsync(HttpRequest request, LimitOptions limits, CancellationToken cancellationToken)
    {
        if (request.HasFormContentType)
        {
            return await ReadFormAsync(request, limits, cancellationToken);
        }

        if (request.HasJsonContentType())
        {
            return await ReadJsonAsync(request, limits, cancellationToken);
        }

        throw new ApiException(StatusCodes.Status415UnsupportedMediaType,
            $"Content-Type '{request.ContentType}' is not supported; send multipart/form-data or application/json.");
    }

    private static async Task<RunSubmission> ReadFormAsync(HttpRequest request, LimitOptions limits, CancellationToken cancellationToken)
    {
        var form = await ReadMultipartAsync(request, limits, cancellationToken);
        var attachments = form.Files.Where(f => f.Name == AttachmentField).ToList();
        if (attachments.Count > limits.MaxAttachments)
        {
            throw new ApiException(StatusCodes.Status413PayloadTooLarge,
                $"{attachments.Count} workflow_attachment parts were sent; at most {limits.MaxAttachments} are accepted (Wes:Limits:MaxAttachments).");
        }

        if (attachments.Sum(f => f.Length) > limits.MaxAttachmentBytes)
        {
            throw new ApiException(StatusCodes.Status413PayloadTooLarge,
                $"The attachments together are larger than {limits.MaxAttachmentBytes} bytes (Wes:Limits:MaxAttachmentBytes).");
        }

        // The form reader bounds the total size only; each text field is held to the field limit here.
        if (form.FirstOrDefault(field => field.Value.Sum(value => Encoding.UTF8.GetByteCount(value ?? "")) > limits.MaxFieldBytes) is { Key: { } large })
        {
            throw FieldTooLarge(large, limits);
        }

        // Some clients send every field as a file part; a non-attachment file part is read as that field's text.
        var fileFields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in form.Files.Where(f => f.Name != AttachmentField && !form.ContainsKey(f.Name)))
        {
            if (file.Length > limits.MaxFieldBytes)
            {
                throw FieldTooLarge(file.Name, limits);
            }

            using var reader = new StreamReader(file.OpenReadStream(), Encoding.UTF8);
            fileFields[file.Name] = await reader.ReadToEndAsync(cancellationToken);
        }

        string? Field(string name)
        {
            var value = form.TryGetValue(name, out var values) ? values.ToString() : fileFields.GetValueOrDefault(name);
            return string.IsNullOrEmpty(value) ? null : value;
        }

        return new RunSubmission
        {
            WorkflowType = Field("workflow_type"),
            WorkflowTypeVersion = Field("workflow_type_version"),
            WorkflowUrl = Field("workflow_url"),
            WorkflowEngine = Field("workflow_engine"),
            WorkflowEngineVersion = Field("workflow_engine_version"),
            WorkflowParams = JsonField.FromText("workflow_params", Field("workflow_params")),
            Tags = JsonField.FromText("tags", Field("tags")),
            WorkflowEngineParameters = JsonField.FromText("workflow_engine_parameters", Field("workflow_engine_parameters")),
            Attachments = attachments.Select(f => new Attachment(AttachmentName(f), f)).ToList(),
        };
    }

    private static async Task<IFormCollection> ReadMultipartAsync(HttpRequest request, LimitOptions limits, CancellationToken cancellationToken)
    {
        try
        {
            return await request.ReadFormAsync(cancellationToken);
        }
        catch (BadHttpRequestException)
        {
            // Kestrel's own refusal (e.g. 413 for a body over the size limit) keeps its status.
            throw;
        }
        catch (InvalidDataException ex)
        {
            // Sizes and counts over a configured limit are 413; anything else wrong with the body's framing is 400.
            var message = ex.Message;
            throw message switch
            {
                _ when message.StartsWith("Form value length limit", StringComparison.Ordinal) => new ApiException(StatusCodes.Status413PayloadTooLarge,
                    $"A form field is larger than {limits.MaxFieldBytes} bytes (Wes:Limits:MaxFieldBytes)."),
                _ when message.StartsWith("Form value count limit", StringComparison.Ordinal) => new ApiException(StatusCodes.Status413PayloadTooLarge,
                    $"The form has too many parts; at most {limits.MaxAttachments} workflow_attachment parts are accepted (Wes:Limits:MaxAttachments)."),
                _ when message.StartsWith("Multipart body length limit", StringComparison.Ordinal) => new ApiException(StatusCodes.Status413PayloadTooLarge,
                    RequestLimits.BodyTooLarge(limits.MaxRequestBodyBytes)),
                _ => new ApiException(StatusCodes.Status400BadRequest, $"The multipart body could not be read: {message}"),
            };
        }
        catch (IOException ex) when (!Persistence.StorageFaults.IsOutOfSpace(ex))
        {
            // A full disk (filtered out above) is the server's fault and answered 507. The message of an I/O error may
            // name a server path (the buffer file of a large part); it stays in the log.
            throw new ApiException(StatusCodes.Status400BadRequest, "The multipart body could not be read: it ended early or could not be buffered.");
        }
    }

    private static ApiException FieldTooLarge(string name, LimitOptions limits) =>
        new(StatusCodes.Status413PayloadTooLarge, $"Field {name} is larger than {limits.MaxFieldBytes} bytes (Wes:Limits:MaxFieldBytes).");

    /// <summary>The body, up to the size limit: Kestrel enforces it too, but not every server in front of this code does.</summary>
    private static async Task<MemoryStream> ReadBoundedAsync(Stream body, long max, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
            {
                throw new ApiException(StatusCodes.Status413PayloadTooLarge, RequestLimits.BodyTooLarge(max));
            }

            buffer.Write(chunk, 0, read);
        }

        buffer.Position = 0;
        return buffer;
    }

    /// <summary>The raw filename of the part (subfolders included); IFormFile.FileName is already unquoted.</summary>
    private static string AttachmentName(IFormFile file)
    {
        if (ContentDispositionHeaderValue.TryParse(file.ContentDisposition, out var disposition))
        {
            var star = disposition.FileNameStar.Value;
            if (!string.IsNullOrEmpty(star))
            {
                return star;
            }
        }

        return file.FileName;
    }

    private static async Task<RunSubmission> ReadJsonAsync(HttpRequest request, LimitOptions limits, CancellationToken cancellationToken)
    {
        JsonNode? body;
        try
        {
            await using var bounded = await ReadBoundedAsync(request.Body, limits.MaxRequestBodyBytes, cancellationToken);
            body = await StrictJson.ParseAsync(bounded, cancellationToken);
        }
        catch (JsonException ex)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"The JSON body is not valid JSON: {ex.Message}");
        }

        if (body is not JsonObject obj)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, "The JSON body must be an object with the RunRequest fields.");
        }

        if (Fields.FirstOrDefault(name => obj[name] is { } node && Encoding.UTF8.GetByteCount(node.ToJsonString(AsSent)) > limits.MaxFieldBytes) is { } large)
        {
            throw FieldTooLarge(large, limits);
        }

        var errors = new List<string>();
        string? Text(string name)
        {
            var node = obj[name];
            if (node is null)
            {
                return null;
            }

            if (node is JsonValue value && value.TryGetValue<string>(out var text))
            {
                return string.IsNullOrEmpty(text) ? null : text;
            }

            errors.Add($"{name} must be a string.");
            return null;
        }

        if (obj.ContainsKey(AttachmentField))
        {
            errors.Add($"{AttachmentField} needs multipart/form-data; a JSON body cannot carry files.");
        }

        return new RunSubmission
        {
            WorkflowType = Text("workflow_type"),
            WorkflowTypeVersion = Text("workflow_type_version"),
            WorkflowUrl = Text("workflow_url"),
            WorkflowEngine = Text("workflow_engine"),
            WorkflowEngineVersion = Text("workflow_engine_version"),
            WorkflowParams = JsonField.From("workflow_params", obj["workflow_params"]),
            Tags = JsonField.From("tags", obj["tags"]),
            WorkflowEngineParameters = JsonField.From("workflow_engine_parameters", obj["workflow_engine_parameters"]),
            ReadErrors = errors,
        };
    }
}
