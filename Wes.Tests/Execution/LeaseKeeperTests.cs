using Dapper;
using Microsoft.Data.Sqlite;
using Wes.Execution;
using Wes.Persistence;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>The lease keeper renews from its own thread, hears cancels and take-overs, and fences itself off in time.</summary>
public sealed class LeaseKeeperTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 0, settings: new Dictionary<string, string?> { ["Wes:LeaseSeconds"] = "2" });
    private readonly WesClient _client;

    public LeaseKeeperTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    private RunStore Store => _factory.Service<RunStore>();
    private string Owner => _factory.Service<ExecutorIdentity>().Id;

    private async Task<string> ClaimAsync()
    {
        var runId = await _client.SubmitAsync(new RunRequestBuilder());
        var run = await Store.TryClaimNextAsync(Owner, TimeSpan.FromSeconds(2), CancellationToken.None);
        Assert.Equal(runId, run!.RunId);
        return runId;
    }

    private SqliteConnection Database() => new($"Data Source={Path.Combine(_factory.DataDir, "wes.db")}");

    [Fact]
    public async Task HeldRun_HasItsLeaseExtendedAgainAndAgain()
    {
        var runId = await ClaimAsync();
        var stopSwitch = new RunStopSwitch();
        using var hold = _factory.Service<LeaseKeeper>().Hold(runId, stopSwitch);
        var first = (await Store.GetAsync(runId, CancellationToken.None))!.LeaseExpiresAt;

        await ProcessTable.WaitUntilAsync(() => Store.GetAsync(runId, CancellationToken.None).Result!.LeaseExpiresAt > first + 1000,
            TimeSpan.FromSeconds(20), "the lease is renewed twice over");

        Assert.False(stopSwitch.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task DatabaseLockedForLongerThanTheLeaseAllows_StopsTheRunBeforeTheLeaseEnds()
    {
        var runId = await ClaimAsync();
        var stopSwitch = new RunStopSwitch();
        await using var blocker = Database();
        await blocker.OpenAsync();
        using var hold = _factory.Service<LeaseKeeper>().Hold(runId, stopSwitch);
        var lastRenewal = (await Store.GetAsync(runId, CancellationToken.None))!.LeaseExpiresAt!.Value;

        await using var exclusive = await blocker.BeginTransactionAsync(System.Data.IsolationLevel.Serializable);
        await blocker.ExecuteAsync("UPDATE server_settings SET value = value", transaction: exclusive);
        await ProcessTable.WaitUntilAsync(() => stopSwitch.Token.IsCancellationRequested, TimeSpan.FromSeconds(20), "the run is stopped");

        Assert.Equal(StopReason.LeaseLost, stopSwitch.Reason);
        // Fenced off within about a lease of the last renewal, not left running while others may take the run.
        Assert.True(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < lastRenewal + 2000 + 2000, "stopped in time");
    }

    [Fact]
    public async Task RunTakenOverByAnotherExecutor_IsStoppedAsLeaseLost()
    {
        var runId = await ClaimAsync();
        var stopSwitch = new RunStopSwitch();
        using var hold = _factory.Service<LeaseKeeper>().Hold(runId, stopSwitch);
        await using var connection = Database();
        await connection.ExecuteAsync("UPDATE runs SET lease_owner = 'elsewhere:1:00' WHERE run_id = @runId", new { runId });

        await ProcessTable.WaitUntilAsync(() => stopSwitch.Token.IsCancellationRequested, TimeSpan.FromSeconds(20), "the run is stopped");

        Assert.Equal(StopReason.LeaseLost, stopSwitch.Reason);
    }

    [Fact]
    public async Task RunCanceledThroughTheDatabase_IsStoppedAsCanceled()
    {
        var runId = await ClaimAsync();
        var stopSwitch = new RunStopSwitch();
        using var hold = _factory.Service<LeaseKeeper>().Hold(runId, stopSwitch);
        await using var connection = Database();
        await connection.ExecuteAsync("UPDATE runs SET state = 'CANCELING' WHERE run_id = @runId", new { runId });

        await ProcessTable.WaitUntilAsync(() => stopSwitch.Token.IsCancellationRequested, TimeSpan.FromSeconds(20), "the run is stopped");

        Assert.Equal(StopReason.CancelRequested, stopSwitch.Reason);
    }
}
