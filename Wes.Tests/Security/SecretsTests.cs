using System.Net;
using System.Net.Http.Headers;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>Tokens, Authorization headers and database passwords never reach the server log, at any log level.</summary>
public sealed class SecretsTests : IDisposable
{
    private readonly TestJwtIssuer _issuer = new();

    public void Dispose() => _issuer.Dispose();

    [Theory]
    [InlineData("token")]
    [InlineData("jwt")]
    public async Task Credentials_AreNeverLogged(string mode)
    {
        var log = new CapturingLoggerProvider();
        using var factory = new WesApplicationFactory(workers: 1, settings: mode == "token" ? TestAuth.TokenSettings() : _issuer.Settings(), services: log.AddTo);
        var good = mode == "token" ? TestAuth.AliceToken : _issuer.Mint("alice");
        var expired = mode == "token" ? "wrong-secret-token-5f2e" : _issuer.Mint("alice", notBefore: DateTime.UtcNow.AddHours(-2), lifetime: TimeSpan.FromHours(1));
        using var client = factory.CreateWesClient(token: good);

        var runId = await client.SubmitAsync(new RunRequestBuilder());
        await client.WaitForTerminalAsync(runId);
        using var http = factory.CreateClient();
        foreach (var header in new[] { new AuthenticationHeaderValue("Bearer", expired), new AuthenticationHeaderValue("Basic", "YWxpY2U6aHVudGVyMg==") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/ga4gh/wes/v1/runs") { Headers = { Authorization = header } };
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(request)).StatusCode);
        }

        Assert.NotEmpty(log.Text);
        foreach (var secret in new[] { good, expired, "YWxpY2U6aHVudGVyMg==", good.Split('.')[^1], expired.Split('.')[^1] })
        {
            Assert.DoesNotContain(secret, log.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DatabasePassword_IsNotPrintedWhenTheDatabaseCannotBeReached()
    {
        const string password = "pg-pass-7c1d9e";
        var dataDir = TempDirectory.Create("wes-secret");
        try
        {
            var (exitCode, output) = await HostProcess.RunToEndAsync(new Dictionary<string, string>
            {
                ["WES_DATA_DIR"] = dataDir,
                ["WES_DATABASE"] = $"Host=127.0.0.1;Port={LocalHttpServer.FreePort()};Database=wes;Username=wes;Password={password};Timeout=2",
                ["Logging__LogLevel__Default"] = "Trace",
            }, "migrate");

            Assert.NotEqual(0, exitCode);
            Assert.Contains("127.0.0.1", output, StringComparison.Ordinal);
            Assert.DoesNotContain(password, output, StringComparison.Ordinal);
        }
        finally
        {
            TempDirectory.Delete(dataDir);
        }
    }
}
