using System.IdentityModel.Tokens.Jwt;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Wes.Tests.Support;

/// <summary>Settings and credentials for servers with authentication on: static tokens and a local JWT issuer.</summary>
public static class TestAuth
{
    public const string AliceToken = "alice-token-5b1c0e";
    public const string BobToken = "bob-token-93fa21";
    public const string AdminToken = "admin-token-7d44e8";

    public static string Sha256Hex(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Token mode with alice, bob and an admin.</summary>
    public static Dictionary<string, string?> TokenSettings() => new()
    {
        ["Wes:Auth:Mode"] = "token",
        ["Wes:Auth:Tokens:0:Sha256"] = Sha256Hex(AliceToken),
        ["Wes:Auth:Tokens:0:User"] = "alice",
        ["Wes:Auth:Tokens:1:Sha256"] = Sha256Hex(BobToken),
        ["Wes:Auth:Tokens:1:User"] = "bob",
        ["Wes:Auth:Tokens:2:Sha256"] = Sha256Hex(AdminToken),
        ["Wes:Auth:Tokens:2:User"] = "root",
        ["Wes:Auth:Tokens:2:Admin"] = "true",
    };

    public static HttpClient WithBearer(this HttpClient http, string? token)
    {
        http.DefaultRequestHeaders.Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}

/// <summary>A JWT issuer for tests: an RSA key pair whose public half the server reads from a PEM or JWKS file.</summary>
public sealed class TestJwtIssuer : IDisposable
{
    public const string Audience = "wes-test";
    public const string Issuer = "https://issuer.test";
    public const string Scope = "wes";
    public const string AdminRole = "wes-admin";

    private readonly RSA _rsa = RSA.Create(2048);
    private readonly string _dir = TempDirectory.Create("wes-jwt");

    public TestJwtIssuer()
    {
        PemPath = Path.Combine(_dir, "public.pem");
        File.WriteAllText(PemPath, _rsa.ExportSubjectPublicKeyInfoPem());
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false)) { KeyId = KeyId });
        JwksJson = $$"""{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"{{KeyId}}","n":"{{jwk.N}}","e":"{{jwk.E}}"}]}""";
        JwksPath = Path.Combine(_dir, "jwks.json");
        File.WriteAllText(JwksPath, JwksJson);
    }

    public string KeyId { get; } = "test-key-1";

    /// <summary>The issuer's signing credentials, for tests that build a token's claims themselves.</summary>
    public SigningCredentials Credentials => new(new RsaSecurityKey(_rsa) { KeyId = KeyId }, SecurityAlgorithms.RsaSha256);
    public string PemPath { get; }
    public string JwksPath { get; }
    public string JwksJson { get; }

    /// <summary>JWT mode reading this issuer's key file, requiring the "wes" scope; "wes-admin" in roles makes an admin.</summary>
    public Dictionary<string, string?> Settings(string? keyFile = null) => new()
    {
        ["Wes:Auth:Mode"] = "jwt",
        ["Wes:Auth:Jwt:KeyFile"] = keyFile ?? PemPath,
        ["Wes:Auth:Jwt:Issuer"] = Issuer,
        ["Wes:Auth:Jwt:Audience"] = Audience,
        ["Wes:Auth:Jwt:RequiredScope"] = Scope,
        ["Wes:Auth:Jwt:AdminRole"] = AdminRole,
    };

    public string Mint(
        string? subject, string scope = Scope, string[]? roles = null, string audience = Audience, string issuer = Issuer,
        TimeSpan? lifetime = null, DateTime? notBefore = null, SigningCredentials? credentials = null, string? email = null)
    {
        var claims = new List<Claim>();
        if (email is not null)
        {
            claims.Add(new Claim("email", email));
        }

        if (subject is not null)
        {
            claims.Add(new Claim("sub", subject));
        }

        claims.Add(new Claim("scope", scope));
        claims.AddRange((roles ?? []).Select(role => new Claim("roles", role)));
        var start = notBefore ?? DateTime.UtcNow.AddMinutes(-1);
        var token = new JwtSecurityToken(issuer, audience, claims, start, start + (lifetime ?? TimeSpan.FromMinutes(10)),
            credentials ?? Credentials);
        return new JwtSecurityTokenHandler().WriteToken(token);
    }

    public void Dispose()
    {
        _rsa.Dispose();
        TempDirectory.Delete(_dir);
    }
}
