using Dapper;
using Microsoft.Data.Sqlite;
using Wes.Persistence;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

public sealed class ReconciliationTests : IDisposable
{
    private static readonly string DeadLocalOwner = $"{Environment.MachineName}:999999:dead";
    private readonly string _dataDir = TempDirectory.Create("wes-reconcile");

    public void Dispose() => TempDirectory.Delete(_dataDir);

    [Fact]
    public async Task RestartAfterACrash_SettlesEveryOrphanedRun()
    {
        string requeued, exhausted, canceling, expiredElsewhere, liveElsewhere;
        // 1. A "crashed" server left runs in every active state, owned by executors that are gone.
        using (var crashed = new WesApplicationFactory(workers: 0, dataDir: _dataDir))
        {
            using var client = crashed.CreateWesClient();
            requeued = await ClaimAsync(crashed, client, DeadLocalOwner, RunState.Running);
            exhausted = await ClaimAsync(crashed, client, DeadLocalOwner, RunState.Running, attempt: 3);
            canceling = await ClaimAsync(crashed, client, DeadLocalOwner, RunState.Canceling);
            expiredElsewhere = await ClaimAsync(crashed, client, "otherhost:42:abc", RunState.Initializing, leaseExpired: true);
            liveElsewhere = await ClaimAsync(crashed, client, "otherhost:43:def", RunState.Running);
        }

        // 2. The restarted server reconciles before it claims anything.
        using var restarted = new WesApplicationFactory(workers: 2, dataDir: _dataDir, settings: new Dictionary<string, string?> { ["Wes:MaxAttempts"] = "3" });
        using var wes = restarted.CreateWesClient();

        Assert.Equal("COMPLETE", await wes.WaitForTerminalAsync(requeued));
        Assert.Equal("SYSTEM_ERROR", await wes.WaitForTerminalAsync(exhausted));
        Assert.Equal("CANCELED", await wes.WaitForTerminalAsync(canceling));
        Assert.Equal("COMPLETE", await wes.WaitForTerminalAsync(expiredElsewhere));
        Assert.Equal("RUNNING", await wes.StateAsync(liveElsewhere));

        var store = restarted.Service<RunStore>();
        var retried = await store.GetAsync(requeued, CancellationToken.None);
        Assert.Equal(2, retried!.Attempt);
        Assert.Contains("re-queued (attempt 2 of 3)", retried.SystemLogsJson, StringComparison.Ordinal);
        var gaveUp = await wes.GetJsonAsync($"/runs/{exhausted}");
        Assert.Contains("all 3 attempts used", gaveUp["run_log"]!["system_logs"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        var history = await store.GetHistoryAsync(requeued, CancellationToken.None);
        Assert.Contains(history, h => h.FromState == "RUNNING" && h.ToState == "QUEUED" && h.Reason == "reconciled: executor lost");
    }

    private static async Task<string> ClaimAsync(
        WesApplicationFactory factory, WesClient client, string owner, RunState state, int attempt = 1, bool leaseExpired = false)
    {
        var runId = await client.SubmitAsync(new RunRequestBuilder());
        var store = factory.Service<RunStore>();
        Assert.Equal(runId, (await store.TryClaimNextAsync(owner, TimeSpan.FromHours(1), CancellationToken.None))!.RunId);
        if (state != RunState.Initializing)
        {
            await store.TransitionAsync(runId, RunState.Initializing, RunState.Running, TransitionChanges.None, owner, "t", CancellationToken.None);
        }

        if (state == RunState.Canceling)
        {
            await store.TransitionAsync(runId, RunState.Running, RunState.Canceling, TransitionChanges.None, owner, "t", CancellationToken.None);
        }

        await using var connection = new SqliteConnection(factory.Service<IRunDatabase>().ConnectionString);
        await connection.ExecuteAsync(
            "UPDATE runs SET attempt = @attempt, lease_expires_at = CASE WHEN @leaseExpired THEN 0 ELSE lease_expires_at END WHERE run_id = @runId",
            new { runId, attempt, leaseExpired });
        return runId;
    }
}
