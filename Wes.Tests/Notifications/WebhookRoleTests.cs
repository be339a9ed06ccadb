using Wes.Tests.Support;
using static Wes.Tests.Notifications.WebhookTestKit;

namespace Wes.Tests.Notifications;

/// <summary>Alerts across real processes: an API process records them, the executor process sends them.</summary>
public sealed class WebhookRoleTests : IDisposable
{
    private readonly string _dataDir = TempDirectory.Create("wes-webhook-roles");

    public void Dispose() => TempDirectory.Delete(_dataDir);

    [Fact]
    public async Task RunsEndedInAnApiProcessAndInAnExecutor_AreBothSentByTheExecutorProcess()
    {
        using var receiver = new WebhookListener();
        var environment = new Dictionary<string, string>
        {
            ["WES_DATA_DIR"] = _dataDir,
            ["DEFAULT_WES_PROVIDER"] = "Mock",
            ["WORKFLOW_POLL_INTERVAL"] = "0.2",
            ["WES_SHUTDOWN_GRACE"] = "0",
            ["WES_WEBHOOK_URL"] = receiver.Url,
            ["WES_WEBHOOK_SECRET"] = Secret,
            ["WES_WEBHOOK_STATES"] = "EXECUTOR_ERROR,CANCELED",
            ["WES_PUBLIC_BASE_URL"] = PublicBase,
            ["Wes__Webhook__RetryDelaySeconds"] = "0.05",
        };
        using var api = await HostProcess.StartAsync(environment, "api");
        using var client = new WesClient(new HttpClient { BaseAddress = new Uri(api.BaseUrl!) }, "/ga4gh/wes/v1");

        // No executor yet: the run stays QUEUED, and the API process itself ends it with the cancel.
        var canceled = await client.SubmitAsync(CompletingRun());
        using (var cancel = await client.PostJsonAsync($"/runs/{canceled}/cancel", "{}"))
        {
            Assert.True(cancel.IsSuccessStatusCode, await cancel.Content.ReadAsStringAsync());
        }

        Assert.Equal("CANCELED", await client.WaitForTerminalAsync(canceled));
        using var executor = await HostProcess.StartExecutorAsync(environment);
        var failed = await client.SubmitAsync(FailingRun());
        Assert.Equal("EXECUTOR_ERROR", await client.WaitForTerminalAsync(failed));

        var first = await receiver.NextAsync();
        var second = await receiver.NextAsync();
        var byRun = new[] { first, second }.ToDictionary(r => r.Json["run_id"]!.GetValue<string>(), r => r.Json["state"]!.GetValue<string>());
        Assert.Equal("CANCELED", byRun[canceled]);
        Assert.Equal("EXECUTOR_ERROR", byRun[failed]);
        Assert.Equal($"{PublicBase}/ga4gh/wes/v1/runs/{failed}/stderr",
            new[] { first, second }.Single(r => r.Json["run_id"]!.GetValue<string>() == failed).Json["stderr_url"]!.GetValue<string>());
    }
}
