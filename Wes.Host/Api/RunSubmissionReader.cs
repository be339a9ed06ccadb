using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Net.Http.Headers;

namespace Wes.Api;

/// <summary>
/// Reads RunWorkflow from multipart/form-data (the spec's form: JSON-encoded text fields plus workflow_attachment
/// files) or from application/json with the same field names.
/// </summary>
public static class RunSubmissionReader
{
    public const string AttachmentField = "workflow_attachment";
    private const int MaxFieldFileBytes = 10 * 1024 * 1024;

    public static async Task<RunSubmission> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.HasFormContentType)
        {
            return await ReadFormAsync(request, cancellationToken);
        }

        if (request.HasJsonContentType())
        {
            return await ReadJsonAsync(request, cancellationToken);
        }

        throw new ApiException(StatusCodes.Status415UnsupportedMediaType,
            $"Content-Type '{request.ContentType}' is not supported; send multipart/form-data or application/json.");
    }

    private static async Task<RunSubmission> ReadFormAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (BadHttpRequestException)
        {
            // Kestrel's own refusal (e.g. 413 for a body over the size limit) keeps its status.
            throw;
        }
        catch (InvalidDataException ex)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"The multipart body could not be read: {ex.Message}");
        }
        catch (IOException ex) when (ex is not EndOfStreamException)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"The multipart body could not be read: {ex.Message}");
        }

        // Some clients send every field as a file part; a non-attachment file part is read as that field's text.
        var fileFields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in form.Files.Where(f => f.Name != AttachmentField && !form.ContainsKey(f.Name)))
        {
            if (file.Length > MaxFieldFileBytes)
            {
                throw new ApiException(StatusCodes.Status413PayloadTooLarge, $"Field {file.Name} is larger than {MaxFieldFileBytes} bytes.");
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
            Attachments = form.Files.Where(f => f.Name == AttachmentField).Select(f => new Attachment(AttachmentName(f), f)).ToList(),
        };
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

    private static async Task<RunSubmission> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        JsonNode? body;
        try
        {
            body = await StrictJson.ParseAsync(request.Body, cancellationToken);
        }
        catch (JsonException ex)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"The JSON body is not valid JSON: {ex.Message}");
        }

        if (body is not JsonObject obj)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, "The JSON body must be an object with the RunRequest fields.");
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
