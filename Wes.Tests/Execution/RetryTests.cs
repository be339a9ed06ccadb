using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

public sealed class RetryTests
{
    private static WesApplicationFactory Factory() => new(workers: 2, settings: new Dictionary<string, string?>
    {
        ["Wes:MaxAttempts"] = "3",
        ["Wes:Retry:BaseDelaySeconds"] = "0.05",
    });

    [Fact]
    public async Task RunFailingTwice_ThenSucceeding_EndsCompleteWithThreeAttemptsVisible()
    {
        using var factory = Factory();
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder().WithTags("""{"wes.mock.fail_attempts": "2"}"""));

        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId));

        var store = factory.Service<RunStore>();
        Assert.Equal(3, (await store.GetAsync(runId, CancellationToken.None))!.Attempt);
        var history = await store.GetHistoryAsync(runId, CancellationToken.None);
        Assert.Equal(3, history.Count(h => h.ToState == "INITIALIZING"));
        Assert.Equal(2, history.Count(h => h.FromState == "RUNNING" && h.ToState == "QUEUED"));
        var log = await client.GetJsonAsync($"/runs/{runId}");
        SpecContract.AssertMatches(log, "RunLog");
        var systemLogs = log["run_log"]!["system_logs"]!.AsArray().Select(l => l!.GetValue<string>()).ToList();
        Assert.Contains(systemLogs, l => l.StartsWith("Attempt 1 ended SYSTEM_ERROR", StringComparison.Ordinal) && l.Contains("retrying as attempt 2 of 3", StringComparison.Ordinal));
        Assert.Contains(systemLogs, l => l.StartsWith("Attempt 2 ended SYSTEM_ERROR", StringComparison.Ordinal));
        // Each earlier execution keeps its own logs, linked from the RunLog.
        var earlier = systemLogs.Where(l => l.StartsWith("Logs of earlier execution", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, earlier.Count);
        var firstStderr = new Uri(earlier[0].Split(' ')[^1]).PathAndQuery;
        Assert.Contains("mock: running", await client.Http.GetStringAsync(firstStderr), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecutorError_IsNotRetriedUnlessTheRunOptsIn()
    {
        using var factory = Factory();
        using var client = factory.CreateWesClient();
        var plain = await client.SubmitAsync(new RunRequestBuilder().WithTags("""{"wes.mock.outcome": "EXECUTOR_ERROR"}"""));
        var optedIn = await client.SubmitAsync(new RunRequestBuilder().WithTags("""{"wes.mock.outcome": "EXECUTOR_ERROR", "wes.retry.executor_error": "true"}"""));

        Assert.Equal("EXECUTOR_ERROR", await client.WaitForTerminalAsync(plain));
        Assert.Equal("EXECUTOR_ERROR", await client.WaitForTerminalAsync(optedIn));

        var store = factory.Service<RunStore>();
        Assert.Equal(1, (await store.GetAsync(plain, CancellationToken.None))!.Attempt);
        Assert.Equal(3, (await store.GetAsync(optedIn, CancellationToken.None))!.Attempt);
    }

    [Fact]
    public async Task ConfiguredRetryOutcomes_ReplaceTheDefaultList()
    {
        using var factory = new WesApplicationFactory(workers: 2, settings: new Dictionary<string, string?>
        {
            ["Wes:MaxAttempts"] = "3",
            ["Wes:Retry:BaseDelaySeconds"] = "0.05",
            ["Wes:Retry:On:0"] = "EXECUTOR_ERROR",
        });
        using var client = factory.CreateWesClient();
        var systemError = await client.SubmitAsync(new RunRequestBuilder().WithTags("""{"wes.mock.fail_attempts": "1"}"""));
        var executorError = await client.SubmitAsync(new RunRequestBuilder().WithTags("""{"wes.mock.outcome": "EXECUTOR_ERROR"}"""));

        Assert.Equal("SYSTEM_ERROR", await client.WaitForTerminalAsync(systemError));
        Assert.Equal("EXECUTOR_ERROR", await client.WaitForTerminalAsync(executorError));

        var store = factory.Service<RunStore>();
        Assert.Equal(1, (await store.GetAsync(systemError, CancellationToken.None))!.Attempt);
        Assert.Equal(3, (await store.GetAsync(executorError, CancellationToken.None))!.Attempt);
    }

    [Fact]
    public async Task RetriedRun_WaitsForItsBackOff()
    {
        using var factory = new WesApplicationFactory(workers: 2, settings: new Dictionary<string, string?>
        {
            ["Wes:MaxAttempts"] = "2",
            ["Wes:Retry:BaseDelaySeconds"] = "3600",
            ["Wes:Retry:MaxDelaySeconds"] = "3600",
        });
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder().WithTags("""{"wes.mock.fail_attempts": "1"}"""));

        // State and attempt from one read of the row: a QUEUED seen before the first claim, paired with the attempt
        // counted by that claim, would describe a run that is in fact running.
        var store = factory.Service<RunStore>();
        Wes.Runs.Run? queued = null;
        await ProcessTable.WaitUntilAsync(async () => (queued = await store.GetAsync(runId, CancellationToken.None)) is { State: "QUEUED", Attempt: 1 },
            TimeSpan.FromSeconds(30), "the failed first attempt to be queued again");

        // Half an hour at least (the fixed half of the jittered back-off): no executor may claim it before then.
        Assert.True(queued!.NotBefore >= DateTimeOffset.UtcNow.AddMinutes(29).ToUnixTimeMilliseconds());
        Assert.Null(await factory.Service<RunStore>().TryClaimNextAsync("someone", TimeSpan.FromMinutes(1), CancellationToken.None));
    }
}
