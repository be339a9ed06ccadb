using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Wes.Api;

/// <summary>
/// JSON answers with an ETag of their bytes: a client polling for changes sends If-None-Match and gets a bodiless 304
/// while nothing changed, so live pages cost little to render and to send.
/// </summary>
public static class ConditionalJson
{
    public static IResult Result<T>(HttpContext http, T value)
    {
        var json = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var body = JsonSerializer.SerializeToUtf8Bytes(value, json);
        var etag = "\"" + Convert.ToBase64String(SHA256.HashData(body), 0, 16).TrimEnd('=').Replace('+', '-').Replace('/', '_') + "\"";
        http.Response.Headers.ETag = etag;
        // Private: answers depend on who asks; no-cache: a cache must revalidate each time, so live views stay live.
        http.Response.Headers.CacheControl = "private, no-cache";
        var sent = http.Request.Headers.IfNoneMatch;
        if (sent.Any(header => header is not null && header.Split(',').Any(tag => tag.Trim() == etag || tag.Trim() == "W/" + etag)))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Bytes(body, "application/json; charset=utf-8");
    }
}
