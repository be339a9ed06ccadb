using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Wes.Security;

namespace Wes.Api;

public sealed class IdempotencyOptions
{
    /// <summary>How long an Idempotency-Key of POST /runs answers with the run it created (Wes:Idempotency:KeyHours).</summary>
    public double KeyHours { get; set; } = 24;

    public TimeSpan KeyLifetime => TimeSpan.FromHours(KeyHours);
}

/// <summary>
/// The Idempotency-Key header of POST /runs: a client that retries a submission with the same key (after a lost
/// answer, say) gets the run the first one created instead of a second run.
/// </summary>
public static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";
    public const int MaxLength = 255;

    /// <summary>The scope column's width: longer user names are stored as their hash, which is as unique.</summary>
    private const int MaxScopeLength = 200;

    /// <summary>The key the request carries, null without one; a malformed key is a 400, not a request without a key.</summary>
    public static string? Read(IHeaderDictionary headers)
    {
        if (!headers.TryGetValue(Header, out var values))
        {
            return null;
        }

        if (values.Count != 1)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"Send one {Header} header, not {values.Count}.");
        }

        var key = values[0] ?? "";
        return key.Length is >= 1 and <= MaxLength && key.All(c => c is >= ' ' and <= '~')
            ? key
            : throw new ApiException(StatusCodes.Status400BadRequest, $"{Header} must be 1 to {MaxLength} printable ASCII characters.");
    }

    /// <summary>Keys are per user: one user's key never finds another's run. With authentication off every client shares "".</summary>
    public static string Scope(WesCaller caller) => caller.User switch
    {
        null => "",
        { Length: <= MaxScopeLength } user => user,
        var user => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(user))),
    };

    /// <summary>
    /// What makes two submissions "the same request": the request as stored (RunLog.request, with object members in
    /// any order) and the attachments, each by its name as sent and the SHA-256 of its content, in any order. The
    /// multipart framing (boundary, part order, headers of the parts) does not count.
    /// </summary>
    public static async Task<string> FingerprintAsync(JsonObject request, IReadOnlyList<Attachment> attachments, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(Canonical(request)!.ToJsonString()));
        foreach (var attachment in attachments.OrderBy(a => a.Name, StringComparer.Ordinal))
        {
            await using var content = attachment.File.OpenReadStream();
            var digest = await SHA256.HashDataAsync(content, cancellationToken);
            // The name as a JSON string: no name can run into the next part of the text.
            hash.AppendData(Encoding.UTF8.GetBytes($"\n{JsonValue.Create(attachment.Name).ToJsonString()} {Convert.ToHexStringLower(digest)}"));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => KeyValuePair.Create(pair.Key, Canonical(pair.Value)))),
        JsonArray array => new JsonArray([.. array.Select(Canonical)]),
        _ => node?.DeepClone(),
    };
}
