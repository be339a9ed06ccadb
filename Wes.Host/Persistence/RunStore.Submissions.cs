using System.Data.Common;
using Dapper;
using Wes.Runs;

namespace Wes.Persistence;

/// <summary>A QUEUED run to insert, with who submitted it, its owner's queue limit and its Idempotency-Key row, if any.</summary>
public sealed record RunInsert(Run Run, string Actor, int MaxQueued, SubmissionKeyClaim? Key = null);

/// <summary>Inserting submitted runs, one at a time or many in one transaction.</summary>
public sealed partial class RunStore
{
    /// <summary>
    /// Inserts a QUEUED run unless its owner already has <paramref name="maxQueued"/> QUEUED runs; answers whether it
    /// was inserted. The count and the insert share one transaction, and submissions of one owner are serialised
    /// (SQLite's write lock, a PostgreSQL advisory lock), so concurrent submissions cannot overshoot the limit.
    /// </summary>
    public async Task<bool> InsertAsync(Run run, string actor, int maxQueued, CancellationToken cancellationToken) =>
        await InsertAsync(run, actor, maxQueued, null, cancellationToken) == InsertOutcome.Inserted;

    /// <summary>
    /// As above, and with <paramref name="key"/> the client's Idempotency-Key row is written in the same transaction,
    /// so a committed run always has its key and a key never outlives a rolled-back run. When a live row already holds
    /// the key, nothing is written and the answer is KeyTaken: the caller answers with that row's run.
    /// </summary>
    public async Task<InsertOutcome> InsertAsync(Run run, string actor, int maxQueued, SubmissionKeyClaim? key, CancellationToken cancellationToken) =>
        (await InsertBatchAsync([new RunInsert(run, actor, maxQueued, key)], cancellationToken))[0];

    /// <summary>
    /// Inserts every item by the rules of <see cref="InsertAsync(Run, string, int, SubmissionKeyClaim?, CancellationToken)"/>
    /// in ONE transaction, in order: an owner's queue count includes the items before it, and of two items with one
    /// key the second answers KeyTaken. One commit for all; a statement that fails fails the whole batch.
    /// </summary>
    public async Task<IReadOnlyList<InsertOutcome>> InsertBatchAsync(IReadOnlyList<RunInsert> items, CancellationToken cancellationToken)
    {
        var outcomes = await InTransactionAsync(async (connection, transaction, ct) =>
        {
            // Sorted, so two processes locking the same owners in their batches cannot deadlock each other.
            var owners = items.Select(i => i.Run.Owner).Distinct().OrderBy(o => o, StringComparer.Ordinal).ToList();
            var queued = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var owner in owners)
            {
                await database.LockSubmitterAsync(connection, transaction, "wes-submit:" + owner, ct);
                queued[OwnerKey(owner)] = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    QueuedByOwnerSql(owner), new { owner }, transaction, cancellationToken: ct));
            }

            var results = new InsertOutcome[items.Count];
            for (var i = 0; i < items.Count; i++)
            {
                var ownerKey = OwnerKey(items[i].Run.Owner);
                results[i] = await InsertOneAsync(connection, transaction, items[i], queued[ownerKey], ct);
                queued[ownerKey] += results[i] == InsertOutcome.Inserted ? 1 : 0;
            }

            // Executors elsewhere only need waking, not each run id: one notice per batch.
            if (Array.FindIndex(results, r => r == InsertOutcome.Inserted) is var first and >= 0)
            {
                await database.NotifyAsync(connection, transaction, NotifyChannels.Runs, items[first].Run.RunId, ct);
            }

            return results;
        }, cancellationToken);

        // Committed: whoever in this process executes runs hears of them now (others through NOTIFY or their poll).
        var inserted = 0;
        for (var i = 0; i < items.Count; i++)
        {
            if (outcomes[i] == InsertOutcome.Inserted)
            {
                inserted++;
                events.OnQueued(items[i].Run.RunId);
            }
        }

        events.OnSubmitted(inserted);

        return outcomes;
    }

    // Runs submitted with authentication off have no owner; no user name can be a lone NUL.
    private static string OwnerKey(string? owner) => owner ?? "\0";

    private async Task<InsertOutcome> InsertOneAsync(DbConnection connection, DbTransaction transaction, RunInsert item, long queued, CancellationToken ct)
    {
        var (run, key) = (item.Run, item.Key);
        var queueFull = queued >= item.MaxQueued;
        if (key is not null)
        {
            // With a full queue nothing may be written, so the key is only looked at: a retry still gets its run.
            var taken = queueFull
                ? await FindSubmissionKeyAsync(connection, transaction, key, ct) is not null
                : !await TakeSubmissionKeyAsync(connection, transaction, key, run.RunId, ct);
            if (taken)
            {
                return InsertOutcome.KeyTaken;
            }
        }

        if (queueFull)
        {
            return InsertOutcome.QueueFull;
        }

        run.UpdatedAt = run.SubmittedAt;
        run.Seq = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO runs (run_id, state, submitted_at, updated_at, provider, owner, workflow_type, workflow_type_version,
                              workflow_url, engine, engine_version, attempt, request_json, tags_json, system_logs_json)
            VALUES (@RunId, @State, @SubmittedAt, @UpdatedAt, @Provider, @Owner, @WorkflowType, @WorkflowTypeVersion,
                    @WorkflowUrl, @Engine, @EngineVersion, 0, @RequestJson, @TagsJson, @SystemLogsJson)
            RETURNING seq
            """, run, transaction, cancellationToken: ct));
        await InsertHistoryAsync(connection, transaction, run.RunId, null, run.RunState, item.Actor, "submitted", run.SubmittedAt, ct);
        return InsertOutcome.Inserted;
    }

    /// <summary>The live Idempotency-Key row of <paramref name="scope"/> and <paramref name="key"/>, or null.</summary>
    public Task<SubmissionKey?> FindSubmissionKeyAsync(string scope, string key, long validFrom, CancellationToken cancellationToken) =>
        QueryAsync((connection, ct) => connection.QuerySingleOrDefaultAsync<SubmissionKey>(new CommandDefinition(
            SubmissionKeySql, new { scope, key, validFrom }, cancellationToken: ct)), cancellationToken);

    private const string SubmissionKeySql =
        "SELECT scope, key, run_id, request_hash, created_at FROM submission_keys WHERE scope = @scope AND key = @key AND created_at >= @validFrom";

    private static Task<SubmissionKey?> FindSubmissionKeyAsync(DbConnection connection, DbTransaction transaction, SubmissionKeyClaim claim, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<SubmissionKey>(new CommandDefinition(
            SubmissionKeySql, new { scope = claim.Row.Scope, key = claim.Row.Key, validFrom = claim.ValidFrom }, transaction, cancellationToken: ct));

    /// <summary>
    /// Writes the key row for <paramref name="runId"/> unless a live one holds the key. An expired row of the same key
    /// is removed first, and now and then every expired row, so the table holds about one lifetime of keys without a
    /// job of its own.
    /// </summary>
    private async Task<bool> TakeSubmissionKeyAsync(
        DbConnection connection, DbTransaction transaction, SubmissionKeyClaim claim, string runId, CancellationToken ct)
    {
        var row = claim.Row;
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM submission_keys WHERE scope = @Scope AND key = @Key AND created_at < @ValidFrom",
            new { row.Scope, row.Key, claim.ValidFrom }, transaction, cancellationToken: ct));
        // ON CONFLICT rather than a read first: a concurrent insert of the same key (even one holding no common lock,
        // or an earlier item of the same batch) makes this one write nothing.
        var taken = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO submission_keys (scope, key, run_id, request_hash, created_at)
            VALUES (@Scope, @Key, @runId, @RequestHash, @CreatedAt)
            ON CONFLICT (scope, key) DO NOTHING
            """, new { row.Scope, row.Key, runId, row.RequestHash, row.CreatedAt }, transaction, cancellationToken: ct)) == 1;
        var now = Now;
        if (taken && Interlocked.Read(ref _nextKeySweep) <= now && Interlocked.Exchange(ref _nextKeySweep, now + KeySweepIntervalMs) <= now)
        {
            // An index on created_at makes this a range delete of the expired rows only.
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM submission_keys WHERE created_at < @ValidFrom", new { claim.ValidFrom }, transaction, cancellationToken: ct));
        }

        return taken;
    }

    private const long KeySweepIntervalMs = 60 * 60 * 1000;

    /// <summary>When the next submission with a key also removes every expired key (epoch ms).</summary>
    private long _nextKeySweep;
}
