using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Wes.Notifications;
using Wes.Persistence;
using Wes.Runs;
using Wes.Tests.Support;
using static Wes.Tests.Notifications.WebhookTestKit;

namespace Wes.Tests.Notifications;

/// <summary>
/// The outbox on each database: an alert is written in the very transaction of the state change, and a claim leases
/// each due alert to one sender only. No sender runs here, so the rows stay as the test leaves them.
/// </summary>
public abstract class WebhookOutboxContract : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private readonly WesApplicationFactory _factory;
    private readonly WesClient _client;

    protected WebhookOutboxContract(string? connectionString)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Wes:Webhooks:0:Url"] = "http://127.0.0.1:9/hooks/all",
            ["Wes:Webhooks:0:States"] = "*",
        };
        if (connectionString is not null)
        {
            settings["Wes:Database"] = connectionString;
        }

        // No workers: submitted runs stay QUEUED for the test to end them.
        _factory = new WesApplicationFactory(workers: 0, settings: settings, services: services =>
            services.Remove(services.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(WebhookSender))));
        _client = _factory.CreateWesClient();
    }

    private RunStore Store => _factory.Service<RunStore>();
    private WebhookOutbox Outbox => _factory.Service<WebhookOutbox>();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task RacingEndsOfOneRun_LeaveExactlyOneAlert_ForTheStateThatWon()
    {
        for (var i = 0; i < 5; i++)
        {
            var runId = await _client.SubmitAsync(CompletingRun());

            var outcomes = await Task.WhenAll(
                Store.TransitionAsync(runId, RunState.Queued, RunState.Canceled, TransitionChanges.None, "test", "cancel", CancellationToken.None),
                Store.TransitionAsync(runId, RunState.Queued, RunState.SystemError, TransitionChanges.None, "test", "fail", CancellationToken.None));

            Assert.Single(outcomes, TransitionOutcome.Changed);
            var alert = Assert.Single(await Outbox.ListForRunAsync(runId, CancellationToken.None));
            Assert.Equal(await _client.StateAsync(runId), alert.State);
            Assert.Equal("QUEUED", alert.PreviousState);
            Assert.Equal("http://127.0.0.1:9/hooks/all", alert.TargetUrl);
            Assert.Null(alert.Outcome);
        }
    }

    /// <summary>A trigger that makes every insert into the outbox fail, with the message "outbox refused".</summary>
    protected abstract string RefuseAlertsSql { get; }

    [Fact]
    public async Task AlertThatCannotBeWritten_UndoesTheStateChange()
    {
        var runId = await _client.SubmitAsync(CompletingRun());
        await using (var connection = await _factory.Service<IRunDatabase>().OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync(RefuseAlertsSql);
        }

        var refused = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() =>
            Store.TransitionAsync(runId, RunState.Queued, RunState.Canceled, TransitionChanges.None, "test", "cancel", CancellationToken.None));

        Assert.Contains("outbox refused", refused.Message, StringComparison.Ordinal);
        Assert.Equal("QUEUED", await _client.StateAsync(runId));
        Assert.Equal(["QUEUED"], (await Store.GetHistoryAsync(runId, CancellationToken.None)).Select(h => h.ToState));
        Assert.Empty(await Outbox.ListForRunAsync(runId, CancellationToken.None));
    }

    [Fact]
    public async Task TransitionThatConflicts_WritesNoAlert()
    {
        var runId = await _client.SubmitAsync(CompletingRun());
        Assert.Equal(TransitionOutcome.Changed,
            await Store.TransitionAsync(runId, RunState.Queued, RunState.Canceled, TransitionChanges.None, "test", "cancel", CancellationToken.None));

        var late = await Store.TransitionAsync(runId, RunState.Queued, RunState.SystemError, TransitionChanges.None, "test", "late", CancellationToken.None);

        Assert.Equal(TransitionOutcome.Conflict, late);
        Assert.Equal("CANCELED", Assert.Single(await Outbox.ListForRunAsync(runId, CancellationToken.None)).State);
    }

    [Fact]
    public async Task ConcurrentClaims_LeaseEachDueAlertToOneSender_UntilTheLeaseRunsOut()
    {
        var runIds = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var runId = await _client.SubmitAsync(CompletingRun());
            await Store.TransitionAsync(runId, RunState.Queued, RunState.Canceled, TransitionChanges.None, "test", "cancel", CancellationToken.None);
            runIds.Add(runId);
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var claims = await Task.WhenAll(
            Outbox.ClaimDueAsync("sender-a", Lease, 4, now, CancellationToken.None),
            Outbox.ClaimDueAsync("sender-b", Lease, 4, now, CancellationToken.None));

        var claimed = claims.SelectMany(c => c).ToList();
        Assert.All(claims, claim => Assert.InRange(claim.Count, 2, 4));
        Assert.Equal(6, claimed.Count);
        Assert.Equal(runIds.Order(StringComparer.Ordinal), claimed.Select(d => d.RunId).Order(StringComparer.Ordinal));
        Assert.Empty(await Outbox.ClaimDueAsync("sender-c", Lease, 10, now + 1, CancellationToken.None));
        Assert.Equal(now + (long)Lease.TotalMilliseconds, await Outbox.NextDueAsync(CancellationToken.None));

        // A sender whose lease has run out can no longer record anything: the alert is someone else's now.
        var afterLease = now + (long)Lease.TotalMilliseconds + 1;
        var retaken = await Outbox.ClaimDueAsync("sender-c", Lease, 10, afterLease, CancellationToken.None);
        Assert.Equal(6, retaken.Count);
        var stale = claims[0][0];
        Assert.False(await Outbox.FinishAsync(stale, "sender-a", WebhookDelivery.Delivered, null, afterLease, CancellationToken.None));
        Assert.True(await Outbox.FinishAsync(stale, "sender-c", WebhookDelivery.Delivered, null, afterLease, CancellationToken.None));
        Assert.Equal(WebhookDelivery.Delivered, (await Outbox.GetAsync(stale.DeliveryId, CancellationToken.None))!.Outcome);
    }

    [Fact]
    public async Task Pruning_RemovesOnlyFinishedAlertsOlderThanTheCutoff()
    {
        var finished = await _client.SubmitAsync(CompletingRun());
        var pending = await _client.SubmitAsync(CompletingRun());
        foreach (var runId in new[] { finished, pending })
        {
            await Store.TransitionAsync(runId, RunState.Queued, RunState.Canceled, TransitionChanges.None, "test", "cancel", CancellationToken.None);
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var claimed = await Outbox.ClaimDueAsync("sender-a", Lease, 10, now, CancellationToken.None);
        await Outbox.FinishAsync(claimed.Single(d => d.RunId == finished), "sender-a", WebhookDelivery.Delivered, null, now, CancellationToken.None);

        Assert.Equal(0, await Outbox.PruneAsync(now, CancellationToken.None));
        Assert.Equal(1, await Outbox.PruneAsync(now + 1, CancellationToken.None));
        Assert.Empty(await Outbox.ListForRunAsync(finished, CancellationToken.None));
        Assert.Single(await Outbox.ListForRunAsync(pending, CancellationToken.None));
    }
}

public sealed class SqliteWebhookOutboxTests() : WebhookOutboxContract(null)
{
    protected override string RefuseAlertsSql => """
        CREATE TRIGGER refuse_alerts BEFORE INSERT ON webhook_deliveries
        BEGIN SELECT RAISE(ABORT, 'outbox refused'); END
        """;
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresWebhookOutboxTests(PostgresServer postgres) : WebhookOutboxContract(postgres.CreateDatabase())
{
    protected override string RefuseAlertsSql => """
        CREATE FUNCTION refuse_alerts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox refused'; END $$;
        CREATE TRIGGER refuse_alerts BEFORE INSERT ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION refuse_alerts();
        """;
}
