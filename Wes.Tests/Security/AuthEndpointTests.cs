using System.Net;
using System.Text;
using Microsoft.IdentityModel.Tokens;
using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>Every WES endpoint, under both base paths, in both authentication modes: who gets in and who does not.</summary>
public sealed class AuthEndpointTests(AuthModesFixture servers) : IClassFixture<AuthModesFixture>
{
    private static readonly (string Method, string Path)[] Endpoints =
    [
        ("GET", "/service-info"),
        ("GET", "/runs"),
        ("POST", "/runs"),
        ("GET", "/runs/{run}"),
        ("GET", "/runs/{run}/status"),
        ("POST", "/runs/{run}/cancel"),
        ("GET", "/runs/{run}/tasks"),
        ("GET", "/runs/{run}/tasks/engine"),
        ("GET", "/runs/{run}/stdout"),
        ("GET", "/runs/{run}/stderr"),
        ("GET", "/runs/{run}/attempts/1/stdout"),
        ("GET", "/runs/{run}/attempts/1/stderr"),
    ];

    public static TheoryData<string, string, string, string> EveryEndpoint() => Rows(_ => true);

    public static TheoryData<string, string, string, string> RunEndpoints() => Rows(path => path.Contains("{run}", StringComparison.Ordinal));

    [Theory]
    [MemberData(nameof(EveryEndpoint))]
    public async Task MissingOrMalformedCredentials_Are401WithAChallenge(string mode, string basePath, string method, string path)
    {
        var server = servers.For(mode);
        var runs = await CountRunsAsync(server);

        foreach (var authorization in new[] { null, "Basic YWxpY2U6cGFzcw==", "Bearer", "Bearer    ", "alice-token-5b1c0e" })
        {
            using var response = await SendAsync(server, method, basePath, path, authorization);

            var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.Unauthorized);
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("IDX", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal(runs, await CountRunsAsync(server));
    }

    [Theory]
    [MemberData(nameof(EveryEndpoint))]
    public async Task WrongOrExpiredTokens_Are401SayingWhy(string mode, string basePath, string method, string path)
    {
        var server = servers.For(mode);
        var runs = await CountRunsAsync(server);
        var refused = mode == "token"
            ? new (string, string)[] { ("not-a-configured-token", "not recognised"), (TestAuth.AliceToken + "x", "not recognised") }
            : [
                (servers.Issuer.Mint("alice", notBefore: DateTime.UtcNow.AddHours(-2), lifetime: TimeSpan.FromHours(1)), "expired"),
                (servers.Issuer.Mint("alice", notBefore: DateTime.UtcNow.AddHours(1)), "not valid yet"),
                (servers.Issuer.Mint("alice", audience: "another-service"), "another audience"),
                (servers.Issuer.Mint("alice", issuer: "https://elsewhere.test"), "issuer"),
                (ForeignKeyToken(), "signature"),
                (servers.Issuer.Mint("alice") + "x", "signature"),
                (servers.Issuer.Mint(null), "'sub' claim"),
                ("not.a.jwt", "not valid"),
            ];

        foreach (var (token, reason) in refused)
        {
            using var response = await SendAsync(server, method, basePath, path, "Bearer " + token);

            var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.Unauthorized);
            Assert.Contains(reason, error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal(runs, await CountRunsAsync(server));
    }

    [Theory]
    [MemberData(nameof(RunEndpoints))]
    public async Task AnotherUsersRun_Is403(string mode, string basePath, string method, string path)
    {
        var server = servers.For(mode);

        using var response = await SendAsync(server, method, basePath, path, "Bearer " + server.Bob);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal($"Run '{server.AliceRun}' belongs to another user.", error["msg"]!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(EveryEndpoint))]
    public async Task OwnerAndAdmin_AreServed(string mode, string basePath, string method, string path)
    {
        var server = servers.For(mode);

        foreach (var token in new[] { server.Alice, server.Admin })
        {
            using var response = await SendAsync(server, method, basePath, path, "Bearer " + token);

            Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task JwtWithoutTheRequiredScope_Is403InsufficientScope()
    {
        var server = servers.Jwt;

        using var response = await SendAsync(server, "GET", "/ga4gh/wes/v1", "/runs", "Bearer " + servers.Issuer.Mint("alice", scope: "openid profile"));

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("scope 'wes'", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("insufficient_scope", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DocumentsAndReferencePage_StayAnonymous_AndDeclareTheBearerScheme()
    {
        using var http = servers.Token.Factory.CreateClient();

        var document = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync("/openapi/v1.json"))!;

        Assert.Equal("bearer", document["components"]!["securitySchemes"]!["bearer"]!["scheme"]!.GetValue<string>());
        Assert.NotNull(document["security"]![0]!["bearer"]);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/scalar/")).StatusCode);
    }

    private static TheoryData<string, string, string, string> Rows(Func<string, bool> include)
    {
        var rows = new TheoryData<string, string, string, string>();
        foreach (var mode in new[] { "token", "jwt" })
        {
            foreach (var basePath in new[] { "/ga4gh/wes/v1", "/api/ga4gh/wes/v1" })
            {
                foreach (var (method, path) in Endpoints.Where(e => include(e.Path)))
                {
                    rows.Add(mode, basePath, method, path);
                }
            }
        }

        return rows;
    }

    private static async Task<HttpResponseMessage> SendAsync(AuthServer server, string method, string basePath, string path, string? authorization)
    {
        using var http = server.Factory.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), basePath + path.Replace("{run}", server.AliceRun, StringComparison.Ordinal));
        if (method == "POST" && path == "/runs")
        {
            request.Content = new StringContent(
                new RunRequestBuilder().WithoutAttachments().With("workflow_url", "https://example.com/x.cwl").ToJson(), Encoding.UTF8, "application/json");
        }

        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return await http.SendAsync(request);
    }

    private static async Task<int> CountRunsAsync(AuthServer server) =>
        (await server.Factory.Service<RunStore>().ListAsync(null, 100_000, null, CancellationToken.None)).Count;

    /// <summary>A well-formed token for the right audience and issuer, signed by a key the server does not know.</summary>
    private string ForeignKeyToken()
    {
        using var other = System.Security.Cryptography.RSA.Create(2048);
        return servers.Issuer.Mint("alice", credentials: new SigningCredentials(
            new RsaSecurityKey(other.ExportParameters(true)) { KeyId = "other" }, SecurityAlgorithms.RsaSha256));
    }
}
