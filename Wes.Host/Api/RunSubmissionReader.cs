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
        var attachments = form.Attachments;
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

        string? Field(string name) => form.Fields.GetValueOrDefault(name) is { Length: > 0 } value ? value : null;

        var budget = new JsonBudget(limits);
        JsonField JsonText(string name)
        {
            if (Field(name) is { } text)
            {
                budget.CheckText(text);
            }

            return JsonField.FromText(name, Field(name));
        }

        return new RunSubmission
        {
            WorkflowType = Field("workflow_type"),
            WorkflowTypeVersion = Field("workflow_type_version"),
            WorkflowUrl = Field("workflow_url"),
            WorkflowEngine = Field("workflow_engine"),
            WorkflowEngineVersion = Field("workflow_engine_version"),
            WorkflowParams = JsonText("workflow_params"),
            Tags = JsonText("tags"),
            WorkflowEngineParameters = JsonText("workflow_engine_parameters"),
            Attachments = attachments.Select(f => new Attachment(AttachmentName(f), f)).ToList(),
        };
    }

    private static async Task<MultipartForm> ReadMultipartAsync(HttpRequest request, LimitOptions limits, CancellationToken cancellationToken)
    {
        try
        {
            return await MultipartForm.ReadAsync(request, limits, cancellationToken);
        }
        catch (BadHttpRequestException)
        {
            // Kestrel's own refusal (e.g. 413 for a body over the size limit) keeps its status.
            throw;
        }
        catch (InvalidDataException ex)
        {
            // A part over the size limit is 413; anything else wrong with the body's framing is 400.
            throw ex.Message.StartsWith("Multipart body length limit", StringComparison.Ordinal)
                ? new ApiException(StatusCodes.Status413PayloadTooLarge, RequestLimits.BodyTooLarge(limits.MaxRequestBodyBytes))
                : new ApiException(StatusCodes.Status400BadRequest, $"The multipart body could not be read: {ex.Message}");
        }
        catch (IOException ex) when (!Persistence.StorageFaults.IsOutOfSpace(ex))
        {
            // A full disk (filtered out above) is the server's fault and answered 507. The message of an I/O error may
            // name a server path (the buffer file of a large part); it stays in the log.
            throw new ApiException(StatusCodes.Status400BadRequest, "The multipart body could not be read: it ended early or could not be buffered.", ex);
        }
    }

    public static ApiException FieldTooLarge(string name, LimitOptions limits) =>
        new(StatusCodes.Status413PayloadTooLarge, $"Field {Printable(name)} is larger than {limits.MaxFieldBytes} bytes (Wes:Limits:MaxFieldBytes).");

    /// <summary>A field name the client chose, as a message may show it: control characters as '?', at most 100 characters.</summary>
    public static string Printable(string name) =>
        new(name.Take(100).Select(c => char.IsControl(c) ? '?' : c).ToArray());

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
        var budget = new JsonBudget(limits);
        JsonNode? body;
        try
        {
            await using var bounded = await ReadBoundedAsync(request.Body, limits.MaxRequestBodyBytes, cancellationToken);
            var bytes = bounded.GetBuffer().AsSpan(0, (int)bounded.Length);
            budget.CheckBody(bytes);
            body = StrictJson.Parse(bytes, limits.MaxJsonDepth);
        }
        catch (JsonException ex)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"The JSON body is not valid JSON: {ex.Message}");
        }

        if (body is not JsonObject obj)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, "The JSON body must be an object with the RunRequest fields.");
        }

        JsonField JsonObjectField(string name)
        {
            // Some clients send these objects as JSON text, which is parsed in turn and so spends the same budget.
            if (obj[name] is JsonValue value && value.TryGetValue<string>(out var text))
            {
                budget.CheckText(text);
            }

            return JsonField.From(name, obj[name]);
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
            WorkflowParams = JsonObjectField("workflow_params"),
            Tags = JsonObjectField("tags"),
            WorkflowEngineParameters = JsonObjectField("workflow_engine_parameters"),
            ReadErrors = errors,
        };
    }
}
