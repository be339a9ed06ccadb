using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Wes.Security;

/// <summary>
/// The public keys in a local key file (Wes:Auth:Jwt:KeyFile): a JWKS document, or PEM public keys or certificates.
/// A file holding a private key is refused: the server only verifies, and should never be given signing power.
/// </summary>
public sealed record JwtSigningKeys(IReadOnlyList<SecurityKey> Keys, string? Problem)
{
    public static JwtSigningKeys Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Fail($"could not be read: {ex.Message.TrimEnd('.')}");
        }

        try
        {
            var keys = text.TrimStart().StartsWith('{') ? FromJwks(text) : FromPem(text);
            return keys.Count == 0 ? Fail("holds no public signing key") : new JwtSigningKeys(keys, null);
        }
        catch (PrivateKeyException)
        {
            return Fail("holds a private key; give the server only the public key (or a JWKS without private parts)");
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException or JsonException or FormatException or InvalidOperationException)
        {
            return Fail($"is neither a JWKS nor PEM public keys or certificates: {ex.Message.TrimEnd('.')}");
        }
    }

    private static JwtSigningKeys Fail(string problem) => new([], problem);

    private static List<SecurityKey> FromJwks(string json)
    {
        var set = new JsonWebKeySet(json);
        if (set.Keys.Any(k => k.HasPrivateKey))
        {
            throw new PrivateKeyException();
        }

        return [.. set.GetSigningKeys()];
    }

    private static List<SecurityKey> FromPem(string text)
    {
        var keys = new List<SecurityKey>();
        var rest = text.AsMemory();
        while (PemEncoding.TryFind(rest.Span, out var fields))
        {
            var label = rest.Span[fields.Label].ToString();
            var block = rest[fields.Location].ToString();
            rest = rest[fields.Location.End..];
            if (label.Contains("PRIVATE", StringComparison.Ordinal))
            {
                throw new PrivateKeyException();
            }

            keys.Add(label switch
            {
                "CERTIFICATE" => new X509SecurityKey(X509Certificate2.CreateFromPem(block)),
                "RSA PUBLIC KEY" => RsaKey(block),
                "PUBLIC KEY" => PublicKey(block),
                _ => throw new FormatException($"a PEM block labelled '{label}' is not a public key or certificate"),
            });
        }

        return keys;
    }

    /// <summary>A SubjectPublicKeyInfo block may hold an RSA or an elliptic-curve key.</summary>
    private static SecurityKey PublicKey(string block)
    {
        try
        {
            return RsaKey(block);
        }
        catch (CryptographicException)
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(block);
            return new ECDsaSecurityKey(ec);
        }
    }

    private static RsaSecurityKey RsaKey(string block)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(block);
        return new RsaSecurityKey(rsa);
    }

    private sealed class PrivateKeyException : Exception;
}
