using Wes.Tests.Support;

namespace Wes.Tests.Cli;

/// <summary>A real Wes.Host child process on a loopback port, shared by one test class.</summary>
public abstract class CliServer(Dictionary<string, string> environment) : IAsyncLifetime
{
    private readonly string _dataDir = TempDirectory.Create("wes-cli");
    private HostProcess? _host;

    public string Url => _host!.BaseUrl + "/ga4gh/wes/v1";

    public async Task InitializeAsync()
    {
        environment["WES_DATA_DIR"] = _dataDir;
        _host = await HostProcess.StartAsync(environment);
    }

    public Task DisposeAsync()
    {
        _host?.Dispose();
        TempDirectory.Delete(_dataDir);
        return Task.CompletedTask;
    }
}

/// <summary>The installed engines (cwltool) run the workflows.</summary>
public sealed class LocalCliServer() : CliServer(new() { ["DEFAULT_WES_PROVIDER"] = "Local" });

/// <summary>Mock runs (cheap, outcome set by tags), token authentication on, small pages.</summary>
public sealed class MockCliServer() : CliServer(new()
{
    ["DEFAULT_WES_PROVIDER"] = "Mock",
    ["Wes__Mock__DelayMilliseconds"] = "50",
    ["Wes__DefaultPageSize"] = "2",
    ["Wes__Auth__Mode"] = "token",
    ["Wes__Auth__Tokens__0__Sha256"] = TestAuth.Sha256Hex(TestAuth.AliceToken),
    ["Wes__Auth__Tokens__0__User"] = "alice",
});
