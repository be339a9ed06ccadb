using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Security;

/// <summary>The configured static tokens as SHA-256 digests, each with the user it stands for.</summary>
public sealed class StaticTokenTable(IOptions<WesOptions> options)
{
    private readonly (byte[] Digest, StaticTokenOptions Token)[] _entries =
        [.. options.Value.Auth.Tokens.Where(t => t.Sha256?.Trim().Length == 64).Select(t => (Convert.FromHexString(t.Sha256!.Trim()), t))];

    /// <summary>
    /// The entry whose digest matches the token's. Every entry is compared in constant time and the loop never stops
    /// early, so the answer time says nothing about how close a guess was or which entry it hit.
    /// </summary>
    public StaticTokenOptions? Find(string token)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        StaticTokenOptions? match = null;
        foreach (var (expected, entry) in _entries)
        {
            if (CryptographicOperations.FixedTimeEquals(expected, digest))
            {
                match = entry;
            }
        }

        return match;
    }
}

/// <summary>Authenticates "Authorization: Bearer &lt;token&gt;" against the static token table (WES_AUTH_MODE=token).</summary>
public sealed class StaticTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions, ILoggerFactory logger, UrlEncoder encoder, StaticTokenTable table)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var (token, problem) = BearerToken.Read(Request);
        if (token is null)
        {
            return Task.FromResult(problem is null ? AuthenticateResult.NoResult() : AuthenticateResult.Fail(problem));
        }

        if (table.Find(token) is not { } entry)
        {
            return Task.FromResult(AuthenticateResult.Fail("The bearer token is not recognised."));
        }

        var principal = new ClaimsPrincipal(WesClaims.Identity(entry.User!, entry.Admin));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = Request.Headers.Authorization.Count > 0
            ? "Bearer realm=\"wes\", error=\"invalid_token\""
            : "Bearer realm=\"wes\"";
        return Task.CompletedTask;
    }
}

public static class BearerToken
{
    /// <summary>Longer than any real token; a bigger header is refused before it is hashed.</summary>
    private const int MaxLength = 8192;

    /// <summary>The token of a "Bearer" Authorization header; no header at all is not a problem, a malformed one is.</summary>
    public static (string? Token, string? Problem) Read(HttpRequest request)
    {
        var headers = request.Headers.Authorization;
        if (headers.Count == 0)
        {
            return (null, null);
        }

        if (headers.Count > 1)
        {
            return (null, "Send one Authorization header.");
        }

        var value = headers[0] ?? "";
        if (!value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return (null, "The Authorization header must be 'Bearer <token>'.");
        }

        var token = value[7..].Trim();
        return token.Length is 0 or > MaxLength ? (null, "The bearer token is empty or too long.") : (token, null);
    }
}
