using System.Security.Cryptography;
using Wes.Configuration;
using Wes.Security;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>Bad security settings stop the server at start-up, each named; secrets in them are never echoed.</summary>
public sealed class SecuritySettingsTests : IDisposable
{
    private readonly string _dir = TempDirectory.Create("wes-settings");

    public void Dispose() => TempDirectory.Delete(_dir);

    [Fact]
    public void TokenMode_ReportsEveryBadTokenWithoutEchoingIt()
    {
        var options = new WesOptions
        {
            Auth = new AuthOptions
            {
                Mode = "Token",
                Tokens =
                [
                    new StaticTokenOptions { Sha256 = "my-plain-secret-token", User = "alice" },
                    new StaticTokenOptions { Sha256 = TestAuth.Sha256Hex("x"), User = "" },
                    new StaticTokenOptions { Sha256 = TestAuth.Sha256Hex("x").ToUpperInvariant(), User = "bob" },
                ],
            },
        };

        var failures = Failures(options);

        Assert.Contains(failures, f => f.StartsWith("Wes:Auth:Tokens:0:Sha256 must be the SHA-256", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Wes:Auth:Tokens:1:User", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Wes:Auth:Tokens:2:Sha256 is the same hash as Wes:Auth:Tokens:1:Sha256", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("my-plain-secret-token", StringComparison.Ordinal));
    }

    [Fact]
    public void JwtMode_NeedsOneKeySourceAndAnAudience()
    {
        var both = Failures(new WesOptions { Auth = new AuthOptions { Mode = "jwt", Jwt = new JwtOptions { Authority = "http://idp.example", KeyFile = "/nope" } } });
        var neither = Failures(new WesOptions { Auth = new AuthOptions { Mode = "jwt", Jwt = new JwtOptions { UserClaim = "" } } });

        Assert.Contains(both, f => f.StartsWith("Wes:Auth:Jwt needs exactly one of Authority", StringComparison.Ordinal));
        Assert.Contains(both, f => f.StartsWith("Wes:Auth:Jwt:Authority must be an absolute https URL", StringComparison.Ordinal));
        Assert.Contains(both, f => f.StartsWith("Wes:Auth:Jwt:KeyFile '/nope' could not be read", StringComparison.Ordinal));
        Assert.Contains(neither, f => f.StartsWith("Wes:Auth:Jwt needs exactly one of Authority", StringComparison.Ordinal));
        Assert.Contains(neither, f => f.StartsWith("Wes:Auth:Jwt:Audience", StringComparison.Ordinal));
        Assert.Contains(neither, f => f.StartsWith("Wes:Auth:Jwt:UserClaim", StringComparison.Ordinal));
    }

    [Fact]
    public void LimitsModeAndFetchList_AreEachNamed()
    {
        var failures = Failures(new WesOptions
        {
            Auth = new AuthOptions { Mode = "basic" },
            Limits = new LimitOptions { MaxRequestBodyBytes = 10, MaxFieldBytes = 1, MaxQueuedRunsPerUser = 0, RequestsPerSecond = -1, RequestBurst = 0, MaxAttachments = -1, MaxJsonDepth = 65, MaxJsonElements = 10 },
            Fetch = new FetchOptions { AllowedHosts = "good.example, 10.0.0.0/8, bad_host!, 300.1.1.1/8" },
        });

        foreach (var setting in new[]
        {
            "WES_AUTH_MODE", "WES_MAX_REQUEST_BYTES", "Wes:Limits:MaxFieldBytes", "WES_MAX_QUEUED_PER_USER", "WES_RATE_LIMIT",
            "Wes:Limits:RequestBurst", "Wes:Limits:MaxAttachments", "Wes:Limits:MaxJsonDepth", "Wes:Limits:MaxJsonElements",
        })
        {
            Assert.Contains(failures, f => f.StartsWith(setting, StringComparison.Ordinal));
        }

        Assert.Equal(2, failures.Count(f => f.StartsWith("WES_ALLOWED_FETCH_HOSTS", StringComparison.Ordinal)));
        Assert.Contains(failures, f => f.EndsWith("got 'bad_host!'.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("missing", "could not be read")]
    [InlineData("garbage", "is neither a JWKS nor PEM")]
    [InlineData("private", "holds a private key")]
    [InlineData("empty-jwks", "holds no public signing key")]
    public async Task UnusableKeyFile_StopsTheServerWithExitCode2(string kind, string expected)
    {
        var keyFile = Path.Combine(_dir, kind + ".pem");
        using var rsa = RSA.Create(2048);
        switch (kind)
        {
            case "garbage":
                await File.WriteAllTextAsync(keyFile, PemEncoding.WriteString("PUBLIC KEY", RandomNumberGenerator.GetBytes(64)));
                break;
            case "private":
                await File.WriteAllTextAsync(keyFile, rsa.ExportPkcs8PrivateKeyPem());
                break;
            case "empty-jwks":
                await File.WriteAllTextAsync(keyFile, """{"keys": []}""");
                break;
        }

        var (exitCode, output) = await HostProcess.RunToEndAsync(new Dictionary<string, string>
        {
            ["WES_DATA_DIR"] = _dir,
            ["WES_AUTH_MODE"] = "jwt",
            ["Wes__Auth__Jwt__KeyFile"] = keyFile,
            ["Wes__Auth__Jwt__Audience"] = "wes",
        }, "--urls", $"http://127.0.0.1:{LocalHttpServer.FreePort()}");

        Assert.Equal(2, exitCode);
        Assert.Contains($"Wes:Auth:Jwt:KeyFile '{keyFile}' {expected}", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
    }

    private static List<string> Failures(WesOptions options) =>
        new WesOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];
}
