using Wes.Configuration;
using Wes.Execution.Sandbox;
using Wes.Tests.Support;

namespace Wes.Tests.Execution.Sandbox;

/// <summary>Wes:Sandbox checked at start-up, read from WES_SANDBOX*, and reported in service-info.</summary>
[Collection(SandboxCollection.Name)]
public sealed class SandboxSettingsTests
{
    [Fact]
    public void Defaults_RequireTheSandbox_AndPass()
    {
        var options = new WesOptions();

        Assert.Equal("Required", options.Sandbox.Mode);
        Assert.True(options.Sandbox.Network);
        Assert.Null(options.Sandbox.User);
        Assert.Empty(Failures(options));
    }

    [Fact]
    public void BadSettings_AreEachNamed()
    {
        var options = new WesOptions();
        options.Sandbox.Mode = "sometimes";
        options.Sandbox.User = "no-such-user-on-this-host";
        options.Sandbox.BwrapPath = "bin/bwrap";
        options.Sandbox.HidePaths = "relative/secret";

        var failures = Failures(options);

        Assert.Contains(failures, f => f.StartsWith("WES_SANDBOX (Wes:Sandbox:Mode) must be one of Required, Off", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("WES_SANDBOX_USER (Wes:Sandbox:User) must name an existing user", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("WES_SANDBOX_BWRAP (Wes:Sandbox:BwrapPath) must be an absolute path", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Wes:Sandbox:HidePaths must list absolute paths", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("nobody", 65534u, "nobody")]
    [InlineData("65534", 65534u, "nobody")]
    [InlineData("4242", 4242u, null)]
    public void EngineUser_IsANameOrAUid(string setting, uint uid, string? name)
    {
        var user = EngineUser.Resolve(setting)!;

        Assert.Equal(uid, user.Uid);
        Assert.Equal(name, user.Name);
        // The server runs as root here; elsewhere the same setting is refused at start-up.
        Assert.Equal(EngineUser.ServerIsRoot, Failures(new WesOptions { Sandbox = { User = setting } }).Count == 0);
    }

    [Fact]
    public async Task EnvironmentVariables_SetTheSandboxSettings()
    {
        using var factory = new WesApplicationFactory(workers: 0, settings: new Dictionary<string, string?>
        {
            ["WES_SANDBOX"] = "off",
            ["WES_SANDBOX_USER"] = "nobody",
            ["WES_SANDBOX_NETWORK"] = "false",
            ["WES_SANDBOX_BWRAP"] = "/usr/bin/bwrap",
        });

        var sandbox = factory.Service<Microsoft.Extensions.Options.IOptions<WesOptions>>().Value.Sandbox;

        Assert.Equal(("off", "nobody", false, "/usr/bin/bwrap"), (sandbox.Mode, sandbox.User, sandbox.Network, sandbox.BwrapPath));
    }

    [Theory]
    [InlineData(null, "bubblewrap ")]
    [InlineData("Off", "off (WES_SANDBOX=off)")]
    [InlineData("/nonexistent/bwrap", "unavailable: bubblewrap not found (/nonexistent/bwrap)")]
    public async Task ServiceInfo_TellsHowEnginesAreConfined(string? setting, string tagStart)
    {
        var settings = new Dictionary<string, string?>();
        if (setting == "Off")
        {
            settings["Wes:Sandbox:Mode"] = setting;
        }
        else if (setting is not null)
        {
            settings["Wes:Sandbox:BwrapPath"] = setting;
        }

        using var factory = new WesApplicationFactory(workers: 0, settings: settings);
        using var client = factory.CreateWesClient();

        var info = await client.GetJsonAsync("/service-info");

        Assert.StartsWith(tagStart, info["tags"]!["sandbox"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static List<string> Failures(WesOptions options) =>
        new WesOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];
}
