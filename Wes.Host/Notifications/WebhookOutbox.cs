using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Registry;
using Wes.Configuration;
using Wes.Persistence;
using Wes.Runs;

namespace Wes.Notifications;

/// <summary>
/// The webhook_deliveries table: alerts are added inside the transaction that ends a run, so an alert exists exactly
/// when the terminal state does; senders then claim due alerts under a lease and record how each try went.
/// </summary>
public sealed class WebhookOutbox(IRunDatabase database, ResiliencePipelineProvider<string> pipelines, IOptions<WesOptions> options)
{
    private const string Columns =
        "id, delivery_id, run_id, target_url, state, previous_state, created_at, next_attempt_at, attempts, " +
        "lease_owner, lease_expires_at, last_error, outcome, finished_at";

    private readonly ResiliencePipeline _retry = pipelines.GetPipeline(RunStore.PipelineName);
    private readonly Lazy<IReadOnlyList<WebhookReceiver>> _receivers = new(() => WebhookTargets.From(options.Value));

    static WebhookOutbox() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public IReadOnlyList<WebhookReceiver> Receivers => _receivers.Value;

    /// <summary>Adds an alert for each receiver that wants <paramref name="to"/>, in the caller's transaction.</summary>
    public async Task<int> AddAsync(
        DbConnection connection, DbTransaction transaction, string runId, RunState from, RunState to, long now, CancellationToken cancellationToken)
    {
        var rows = Receivers.Where(receiver => receiver.States.Contains(to)).Select(receiver => new
        {
            deliveryId = Guid.NewGuid().ToString(), runId, url = receiver.Url, state = to.ToWes(), previous = from.ToWes(), now,
        }).ToList();
        if (rows.Count == 0)
        {
            return 0;
        }

        return await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO webhook_deliveries (delivery_id, run_id, target_url, state, previous_state, created_at, next_attempt_at, attempts)
            VALUES (@deliveryId, @runId, @url, @state, @previous, @now, @now, 0)
            """, rows, transaction, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Leases up to <paramref name="limit"/> due alerts to <paramref name="owner"/>. The conditions are repeated
    /// outside the subquery, so a claimer that waited for a row re-checks them on the row it then gets. On SQLite the
    /// write transaction already makes claims one at a time. On PostgreSQL SKIP LOCKED lets concurrent claimers take
    /// different rows without waiting, and ARRAY(...) runs the subquery once: as an IN semi-join the planner may
    /// rescan it, and each rescan skips to further rows, so one claim could take more than its limit.
    /// </summary>
    public Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(string owner, TimeSpan lease, int limit, long now, CancellationToken cancellationToken)
    {
        const string due = "outcome IS NULL AND next_attempt_at <= @now AND (lease_expires_at IS NULL OR lease_expires_at < @now)";
        const string pick = $"SELECT id FROM webhook_deliveries WHERE {due} ORDER BY next_attempt_at, id LIMIT @limit";
        var chosen = database.Kind == DatabaseKind.PostgreSql ? $"id = ANY(ARRAY({pick} FOR UPDATE SKIP LOCKED))" : $"id IN ({pick})";
        return WriteAsync<IReadOnlyList<WebhookDelivery>>(async (connection, transaction, ct) =>
            (await connection.QueryAsync<WebhookDelivery>(new CommandDefinition(
                $"""
                UPDATE webhook_deliveries SET lease_owner = @owner, lease_expires_at = @leaseUntil
                WHERE {chosen} AND {due}
                RETURNING {Columns}
                """, new { owner, leaseUntil = now + (long)lease.TotalMilliseconds, limit, now }, transaction, cancellationToken: ct))).AsList(),
            cancellationToken);
    }

    /// <summary>When the next pending alert is due (epoch ms), a leased one counting from its lease's end; null when none is pending.</summary>
    public Task<long?> NextDueAsync(CancellationToken cancellationToken) =>
        _retry.ExecuteAsync(async ct =>
        {
            await using var connection = await database.OpenAsync(ct);
            return await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                """
                SELECT MIN(CASE WHEN lease_expires_at IS NOT NULL AND lease_expires_at > next_attempt_at
                                THEN lease_expires_at ELSE next_attempt_at END)
                FROM webhook_deliveries WHERE outcome IS NULL
                """, cancellationToken: ct));
        }, cancellationToken).AsTask();

    public Task<WebhookDelivery?> GetAsync(string deliveryId, CancellationToken cancellationToken) =>
        _retry.ExecuteAsync(async ct =>
        {
            await using var connection = await database.OpenAsync(ct);
            return await connection.QuerySingleOrDefaultAsync<WebhookDelivery>(new CommandDefinition(
                $"SELECT {Columns} FROM webhook_deliveries WHERE delivery_id = @deliveryId", new { deliveryId }, cancellationToken: ct));
        }, cancellationToken).AsTask();

    public Task<IReadOnlyList<WebhookDelivery>> ListForRunAsync(string runId, CancellationToken cancellationToken) =>
        _retry.ExecuteAsync<IReadOnlyList<WebhookDelivery>>(async ct =>
        {
            await using var connection = await database.OpenAsync(ct);
            return (await connection.QueryAsync<WebhookDelivery>(new CommandDefinition(
                $"SELECT {Columns} FROM webhook_deliveries WHERE run_id = @runId ORDER BY id", new { runId }, cancellationToken: ct))).AsList();
        }, cancellationToken).AsTask();

    /// <summary>Records a try that ended the alert (delivered or given up). Fenced: only while <paramref name="owner"/> holds it.</summary>
    public Task<bool> FinishAsync(WebhookDelivery delivery, string owner, string outcome, string? error, long now, CancellationToken cancellationToken) =>
        UpdateAsync(
            """
            UPDATE webhook_deliveries SET outcome = @outcome, attempts = attempts + 1, last_error = @error, finished_at = @now,
                lease_owner = NULL, lease_expires_at = NULL
            WHERE id = @id AND lease_owner = @owner AND outcome IS NULL
            """, new { id = delivery.Id, owner, outcome, error, now }, cancellationToken);

    /// <summary>Records a failed try and when to try again. Fenced like <see cref="FinishAsync"/>.</summary>
    public Task<bool> RetryLaterAsync(WebhookDelivery delivery, string owner, string error, long nextAttemptAt, CancellationToken cancellationToken) =>
        UpdateAsync(
            """
            UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = @error, next_attempt_at = @nextAttemptAt,
                lease_owner = NULL, lease_expires_at = NULL
            WHERE id = @id AND lease_owner = @owner AND outcome IS NULL
            """, new { id = delivery.Id, owner, error, nextAttemptAt }, cancellationToken);

    /// <summary>Hands an alert back untried (the sender is stopping), so the next sender need not wait for the lease to run out.</summary>
    public Task<bool> ReleaseAsync(WebhookDelivery delivery, string owner, CancellationToken cancellationToken) =>
        UpdateAsync(
            "UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE id = @id AND lease_owner = @owner AND outcome IS NULL",
            new { id = delivery.Id, owner }, cancellationToken);

    /// <summary>Removes alerts that were delivered or given up before <paramref name="before"/> (epoch ms).</summary>
    public Task<int> PruneAsync(long before, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, ct) => connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM webhook_deliveries WHERE outcome IS NOT NULL AND finished_at < @before", new { before }, transaction, cancellationToken: ct)),
            cancellationToken);

    private async Task<bool> UpdateAsync(string sql, object parameters, CancellationToken cancellationToken) =>
        await WriteAsync((connection, transaction, ct) => connection.ExecuteAsync(new CommandDefinition(sql, parameters, transaction, cancellationToken: ct)),
            cancellationToken) == 1;

    private async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(ct => new ValueTask<T>(database.WriteAsync(work, ct)), cancellationToken);
}
