using System.IdentityModel.Tokens.Jwt;
using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.Tokens;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>JWT mode's key sources (OIDC discovery, JWKS file, PEM file) and what it refuses; no network beyond loopback.</summary>
public sealed class JwtAuthTests : IDisposable
{
    private readonly TestJwtIssuer _issuer = new();

    public void Dispose() => _issuer.Dispose();

    [Fact]
    public async Task Authority_KeysComeFromItsDiscoveryDocument()
    {
        using var provider = DiscoveryServer(out var authority);
        using var factory = new WesApplicationFactory(workers: 0, settings: new Dictionary<string, string?>
        {
            ["WES_AUTH_MODE"] = "jwt",
            ["Wes:Auth:Jwt:Authority"] = authority,
            ["Wes:Auth:Jwt:RequireHttpsMetadata"] = "false",
            ["Wes:Auth:Jwt:Audience"] = TestJwtIssuer.Audience,
        });

        using var accepted = await factory.CreateWesClient(token: _issuer.Mint("alice", issuer: authority)).GetAsync("/runs");
        using var otherIssuer = await factory.CreateWesClient(token: _issuer.Mint("alice")).GetAsync("/runs");

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        await JsonAssert.ErrorAsync(otherIssuer, HttpStatusCode.Unauthorized);
        Assert.True(provider.WasReached);
    }

    [Fact]
    public async Task JwksKeyFile_IsRead()
    {
        using var factory = new WesApplicationFactory(workers: 0, settings: _issuer.Settings(_issuer.JwksPath));

        using var response = await factory.CreateWesClient(token: _issuer.Mint("alice")).GetAsync("/runs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SymmetricAndUnsignedTokens_AreRefused()
    {
        using var factory = new WesApplicationFactory(workers: 0, settings: _issuer.Settings());
        // The classic confusion attack: HS256 keyed with the server's own public key, which anyone can read.
        var hmac = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(File.ReadAllText(_issuer.PemPath))), SecurityAlgorithms.HmacSha256);
        var unsigned = new JwtSecurityTokenHandler().WriteToken(new JwtSecurityToken(
            TestJwtIssuer.Issuer, TestJwtIssuer.Audience, [new Claim("sub", "alice"), new Claim("scope", "wes")], DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(10)));

        foreach (var token in new[] { _issuer.Mint("alice", credentials: hmac), unsigned })
        {
            await JsonAssert.ErrorAsync(await factory.CreateWesClient(token: token).GetAsync("/runs"), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task AnotherUserClaim_AndAdminByScope_AreHonoured()
    {
        var settings = _issuer.Settings();
        settings["Wes:Auth:Jwt:AdminRole"] = null;
        settings["Wes:Auth:Jwt:AdminScope"] = "wes:admin";
        settings["Wes:Auth:Jwt:UserClaim"] = "email";
        using var factory = new WesApplicationFactory(workers: 0, settings: settings);
        using var alice = factory.CreateWesClient(token: _issuer.Mint("u-1", email: "alice@example.org"));
        var runId = await alice.SubmitAsync(new RunRequestBuilder());

        using var sameEmail = await factory.CreateWesClient(token: _issuer.Mint("u-2", email: "alice@example.org")).GetAsync($"/runs/{runId}");
        using var asAdmin = await factory.CreateWesClient(token: _issuer.Mint("u-3", scope: "wes wes:admin", email: "root@example.org")).GetAsync($"/runs/{runId}");
        // Once AdminRole is unset, a token naming that role gets nothing extra.
        using var roleOnly = await factory.CreateWesClient(token: _issuer.Mint("u-4", roles: [TestJwtIssuer.AdminRole], email: "m@example.org")).GetAsync($"/runs/{runId}");
        using var noEmail = await factory.CreateWesClient(token: _issuer.Mint("u-5")).GetAsync("/runs");

        Assert.Equal(HttpStatusCode.OK, sameEmail.StatusCode);
        Assert.Equal(HttpStatusCode.OK, asAdmin.StatusCode);
        await JsonAssert.ErrorAsync(roleOnly, HttpStatusCode.Forbidden);
        Assert.Contains("'email' claim", (await JsonAssert.ErrorAsync(noEmail, HttpStatusCode.Unauthorized))["msg"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClaimsNamedLikeTheServersOwn_GrantNothing()
    {
        using var factory = new WesApplicationFactory(workers: 0, settings: _issuer.Settings());
        using var alice = factory.CreateWesClient(token: _issuer.Mint("alice"));
        var runId = await alice.SubmitAsync(new RunRequestBuilder());
        var forged = new JwtSecurityTokenHandler().WriteToken(new JwtSecurityToken(TestJwtIssuer.Issuer, TestJwtIssuer.Audience,
            [new Claim("sub", "mallory"), new Claim("scope", "wes"), new Claim("wes:user", "alice"), new Claim("wes:admin", "true")],
            DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(10), _issuer.Credentials));

        using var response = await factory.CreateWesClient(token: forged).GetAsync($"/runs/{runId}");

        await JsonAssert.ErrorAsync(response, HttpStatusCode.Forbidden);
    }

    private LoopbackHttpServer DiscoveryServer(out string authority)
    {
        // The discovery document names the server's own address, which is known only once it listens.
        var routes = new Dictionary<string, string>();
        var server = new LoopbackHttpServer("", routes: routes);
        authority = server.BaseUrl.TrimEnd('/');
        routes["/.well-known/openid-configuration"] = $$"""{"issuer": "{{authority}}", "jwks_uri": "{{authority}}/jwks"}""";
        routes["/jwks"] = _issuer.JwksJson;
        return server;
    }
}
