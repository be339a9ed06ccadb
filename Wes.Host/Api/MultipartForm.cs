using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Wes.Security;

namespace Wes.Api;

/// <summary>
/// A multipart/form-data body read part by part: text fields from their raw bytes, decoded strictly (ASP.NET's form
/// reader would turn invalid UTF-8 into U+FFFD without a word), and files left in the buffered body as IFormFiles.
/// </summary>
public sealed class MultipartForm
{
    /// <summary>ASP.NET's own limit for form boundaries (RFC 2046 allows 70 characters).</summary>
    private const int MaxBoundaryLength = 128;

    /// <summary>Every part counts: the attachments plus room for the eight RunRequest fields.</summary>
    public static int MaxParts(LimitOptions limits) => limits.MaxAttachments + 64;

    private MultipartForm(Dictionary<string, string> fields, List<IFormFile> attachments)
    {
        Fields = fields;
        Attachments = attachments;
    }

    /// <summary>Each text part by name (a field some clients send as a file part included).</summary>
    public IReadOnlyDictionary<string, string> Fields { get; }

    public IReadOnlyList<IFormFile> Attachments { get; }

    public static async Task<MultipartForm> ReadAsync(HttpRequest request, LimitOptions limits, CancellationToken cancellationToken)
    {
        var boundary = Boundary(request.ContentType);
        // Files stay where they are in the buffered body (memory, then a temporary file deleted with the request).
        request.EnableBuffering();
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = limits.MaxRequestBodyBytes };
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var attachments = new List<IFormFile>();
        var parts = 0;
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (++parts > MaxParts(limits))
            {
                throw new ApiException(StatusCodes.Status413PayloadTooLarge,
                    $"The form has too many parts; at most {limits.MaxAttachments} workflow_attachment parts are accepted (Wes:Limits:MaxAttachments).");
            }

            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase)
                || HeaderUtilities.RemoveQuotes(disposition.Name).Value is not { Length: > 0 } name)
            {
                throw new ApiException(StatusCodes.Status400BadRequest, $"Form part {parts} has no Content-Disposition of form-data with a name.");
            }

            if (name == RunSubmissionReader.AttachmentField)
            {
                attachments.Add(await AttachmentAsync(request, section, disposition, cancellationToken));
            }
            else if (!fields.TryAdd(name, await TextAsync(section, name, limits, cancellationToken)))
            {
                throw new ApiException(StatusCodes.Status400BadRequest, $"Field {RunSubmissionReader.Printable(name)} is sent more than once.");
            }

            // The web server bounds the whole body too; this covers servers in front of this code that do not.
            if (request.Body.Position > limits.MaxRequestBodyBytes)
            {
                throw new ApiException(StatusCodes.Status413PayloadTooLarge, RequestLimits.BodyTooLarge(limits.MaxRequestBodyBytes));
            }
        }

        return new MultipartForm(fields, attachments);
    }

    private static string Boundary(string? contentType)
    {
        var boundary = MediaTypeHeaderValue.TryParse(contentType, out var media) ? HeaderUtilities.RemoveQuotes(media.Boundary).Value : null;
        if (string.IsNullOrWhiteSpace(boundary))
        {
            throw new ApiException(StatusCodes.Status400BadRequest, "The multipart body could not be read: Content-Type has no boundary.");
        }

        return boundary.Length <= MaxBoundaryLength
            ? boundary
            : throw new ApiException(StatusCodes.Status400BadRequest, $"The multipart body could not be read: its boundary is longer than {MaxBoundaryLength} characters.");
    }

    private static async Task<IFormFile> AttachmentAsync(
        HttpRequest request, MultipartSection section, ContentDispositionHeaderValue disposition, CancellationToken cancellationToken)
    {
        await section.Body.DrainAsync(cancellationToken);
        var fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "";
        return new FormFile(request.Body, section.BaseStreamOffset!.Value, section.Body.Length, RunSubmissionReader.AttachmentField, fileName)
        {
            Headers = new HeaderDictionary(section.Headers),
        };
    }

    /// <summary>The part's text in its declared charset (UTF-8 unless it says otherwise); bytes that are not valid in it are a 400.</summary>
    private static async Task<string> TextAsync(MultipartSection section, string name, LimitOptions limits, CancellationToken cancellationToken)
    {
        var bytes = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while ((read = await section.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (bytes.Length + read > limits.MaxFieldBytes)
            {
                throw RunSubmissionReader.FieldTooLarge(name, limits);
            }

            bytes.Write(chunk, 0, read);
        }

        var declared = MediaTypeHeaderValue.TryParse(section.ContentType, out var media) ? media.Encoding : null;
        // UTF-7 is never honoured (it can smuggle characters past checks); ASP.NET's form reader refuses it too.
        var encoding = (Encoding)(declared is null || declared.CodePage == 65000 ? Encoding.UTF8 : declared).Clone();
        encoding.DecoderFallback = DecoderFallback.ExceptionFallback;
        var text = bytes.GetBuffer().AsSpan(0, (int)bytes.Length);
        if (encoding is UTF8Encoding && text.StartsWith(Encoding.UTF8.Preamble))
        {
            text = text[Encoding.UTF8.Preamble.Length..];
        }

        try
        {
            return encoding.GetString(text);
        }
        catch (DecoderFallbackException)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"Field {RunSubmissionReader.Printable(name)} is not valid {encoding.WebName} text.");
        }
    }
}
