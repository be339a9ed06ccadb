using Wes.Configuration;
using Wes.Notifications;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Notifications;

public sealed class WebhookSettingsTests : IDisposable
{
    private readonly string _dataDir = TempDirectory.Create("wes-webhook-settings");

    public void Dispose() => TempDirectory.Delete(_dataDir);

    [Fact]
    public async Task BadReceivers_StopTheProcessNamingEachSetting_WithoutEchoingTheSecret()
    {
        var (exitCode, output) = await HostProcess.RunToEndAsync(new Dictionary<string, string>
        {
            ["WES_DATA_DIR"] = _dataDir,
            ["WES_WEBHOOK_URL"] = "ftp://hooks.example.org/wes",
            ["WES_WEBHOOK_SECRET"] = "never-print-me",
            ["WES_WEBHOOK_STATES"] = "RUNNING",
            ["WES_WEBHOOK_MAX_AGE"] = "0",
            ["Wes__Webhooks__0__Url"] = "hooks/relative",
            ["Wes__Webhooks__1__Url"] = "http://127.0.0.1:8080/hook",
            ["Wes__Webhooks__1__States"] = "CANCELED,FINISHED",
        }, "--urls", $"http://127.0.0.1:{LocalHttpServer.FreePort()}");

        Assert.Equal(2, exitCode);
        Assert.Contains("WES_WEBHOOK_URL (Wes:Webhook:Url) must be an absolute http(s) URL.", output, StringComparison.Ordinal);
        // A receiver URL may carry its token: the message names the setting, never the value.
        Assert.DoesNotContain("ftp://hooks.example.org/wes", output, StringComparison.Ordinal);
        Assert.Contains("WES_WEBHOOK_STATES (Wes:Webhook:States) may only list the terminal states", output, StringComparison.Ordinal);
        Assert.Contains("WES_WEBHOOK_MAX_AGE (Wes:Webhook:MaxAgeHours)", output, StringComparison.Ordinal);
        Assert.Contains("Wes:Webhooks:0:Url must be an absolute http(s) URL.", output, StringComparison.Ordinal);
        Assert.Contains("Wes:Webhooks:1:States may only list the terminal states CANCELED, COMPLETE, EXECUTOR_ERROR, PREEMPTED, SYSTEM_ERROR, separated by commas, or *; got 'CANCELED,FINISHED'.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("never-print-me", output, StringComparison.Ordinal);
    }

    [Fact]
    public void LoopbackAndPrivateReceivers_AreValid_ForTheyAreTheOperatorsOwn()
    {
        var options = new WesOptions
        {
            Webhooks = [new WebhookTarget { Url = "http://127.0.0.1:9000/alerts", States = "*" }, new WebhookTarget { Url = "https://10.1.2.3/hook" }],
            Webhook = new WebhookOptions { Url = "http://localhost/hook", Secret = "s", States = "system_error, preempted" },
        };

        var result = new WesOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.Equal(3, WebhookTargets.From(options).Count);
    }

    [Fact]
    public void ReceiverListedTwice_OrASecretWithoutAUrl_IsNamed()
    {
        var options = new WesOptions
        {
            Webhooks = [new WebhookTarget { Url = "http://127.0.0.1:9000/alerts" }, new WebhookTarget { Url = "http://127.0.0.1:9000/alerts" }],
            Webhook = new WebhookOptions { Secret = "hidden" },
        };

        var failures = new WesOptionsValidator().Validate(null, options).Failures!.ToList();

        Assert.Contains("Wes:Webhooks:1:Url names a receiver that is already configured.", failures);
        Assert.Contains("WES_WEBHOOK_SECRET (Wes:Webhook:Secret) is set without WES_WEBHOOK_URL (Wes:Webhook:Url).", failures);
        Assert.DoesNotContain(failures, f => f.Contains("hidden", StringComparison.Ordinal));
    }

    [Fact]
    public void States_DefaultToTheFailures_AndStarMeansEveryTerminalState()
    {
        Assert.Equal([RunState.ExecutorError, RunState.SystemError], WebhookTargets.ParseStates(null)!.Order());
        Assert.Equal(RunTransitions.Terminal.Order(), WebhookTargets.ParseStates(" * ")!.Order());
        Assert.Equal([RunState.Complete, RunState.Canceled], WebhookTargets.ParseStates("complete,CANCELED")!.Order());
        Assert.Null(WebhookTargets.ParseStates("QUEUED"));
    }

    [Fact]
    public void LinksBase_IsThePublicUrl_ElseTheFirstUsableListenAddress()
    {
        Assert.Equal("https://wes.example.org", WebhookLinks.PublicBase("https://wes.example.org/", ["http://127.0.0.1:8000"]));
        Assert.Equal("http://127.0.0.1:5005", WebhookLinks.PublicBase(null, ["http://127.0.0.1:0", "http://127.0.0.1:5005"]));
        Assert.Equal($"http://{Environment.MachineName.ToLowerInvariant()}:8080", WebhookLinks.PublicBase("", ["http://0.0.0.0:8080"]));
        Assert.Equal($"https://{Environment.MachineName.ToLowerInvariant()}:8443", WebhookLinks.PublicBase(null, ["https://+:8443"]));
        Assert.Equal("http://localhost:5000", WebhookLinks.PublicBase(null, []));
    }
}
