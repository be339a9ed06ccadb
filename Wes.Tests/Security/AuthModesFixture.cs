using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>
/// One server per authentication mode (static tokens, JWT), each holding a finished run of alice's that was retried
/// once, so every run endpoint (logs of the earlier attempt included) has something to answer with.
/// </summary>
public sealed class AuthModesFixture : IAsyncLifetime
{
    public TestJwtIssuer Issuer { get; } = new();
    public AuthServer Token { get; private set; } = null!;
    public AuthServer Jwt { get; private set; } = null!;

    public AuthServer For(string mode) => mode == "token" ? Token : Jwt;

    public async Task InitializeAsync()
    {
        Token = await AuthServer.StartAsync(TestAuth.TokenSettings(), TestAuth.AliceToken, TestAuth.BobToken, TestAuth.AdminToken);
        Jwt = await AuthServer.StartAsync(Issuer.Settings(), Issuer.Mint("alice"), Issuer.Mint("bob"),
            Issuer.Mint("root", roles: [TestJwtIssuer.AdminRole]));
    }

    public Task DisposeAsync()
    {
        Token.Dispose();
        Jwt.Dispose();
        Issuer.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class AuthServer : IDisposable
{
    private AuthServer(WesApplicationFactory factory, string alice, string bob, string admin)
    {
        Factory = factory;
        Alice = alice;
        Bob = bob;
        Admin = admin;
    }

    public WesApplicationFactory Factory { get; }
    public string Alice { get; }
    public string Bob { get; }
    public string Admin { get; }
    public string AliceRun { get; private set; } = "";

    public static async Task<AuthServer> StartAsync(Dictionary<string, string?> settings, string alice, string bob, string admin)
    {
        settings["Wes:MaxAttempts"] = "2";
        var server = new AuthServer(new WesApplicationFactory(workers: 1, settings: settings), alice, bob, admin);
        using var client = server.Client(alice);
        server.AliceRun = await client.SubmitAsync(new RunRequestBuilder().WithTags("""{"wes.mock.fail_attempts": "1"}"""));
        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(server.AliceRun));
        return server;
    }

    public WesClient Client(string? token, string basePath = "/ga4gh/wes/v1") => Factory.CreateWesClient(basePath, token);

    public void Dispose() => Factory.Dispose();
}
