using System.Data.Common;
using Dapper;
using Polly;
using Polly.Registry;
using Wes.Notifications;
using Wes.Runs;

namespace Wes.Persistence;

/// <summary>
/// Every read and write of runs. Each state change is one conditional UPDATE (only from the expected state)
/// plus one history row, in one transaction; it answers Changed or Conflict and never throws for a race.
/// Transient database faults (busy, disconnected) are retried by the "database" resilience pipeline.
/// A change to a terminal state also adds, in the same transaction, the alerts its webhook receivers want.
/// </summary>
public sealed partial class RunStore(
    IRunDatabase database, ResiliencePipelineProvider<string> pipelines, RunEvents events, WebhookOutbox outbox, TimeProvider clock)
{
    public const string PipelineName = "database";

    private const string RunColumns =
        "seq, run_id, state, submitted_at, started_at, ended_at, updated_at, provider, owner, workflow_type, " +
        "workflow_type_version, workflow_url, engine, engine_version, attempt, not_before, lease_owner, lease_expires_at, " +
        "engine_pid, provider_handle, exit_code, error_message, cmd_json, outputs_json, request_json, tags_json, system_logs_json, files_removed_at";

    private const string TaskColumns = "id, run_id, task_id, name, cmd_json, start_time, end_time, exit_code, system_logs_json";

    private readonly ResiliencePipeline _retry = pipelines.GetPipeline(PipelineName);

    static RunStore() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public DatabaseKind Kind => database.Kind;

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>QUEUED runs of one owner (null: the runs submitted with authentication off).</summary>
    public Task<long> CountQueuedAsync(string? owner, CancellationToken cancellationToken) =>
        QueryAsync((connection, ct) => connection.ExecuteScalarAsync<long>(new CommandDefinition(
            QueuedByOwnerSql(owner), new { owner }, cancellationToken: ct)), cancellationToken);

    /// <summary>
    /// Whether one owner (null: the runs submitted with authentication off) already has <paramref name="maxQueued"/>
    /// QUEUED runs. It reads at most that many index entries, however long the queue.
    /// </summary>
    public async Task<bool> IsQueueFullAsync(string? owner, int maxQueued, CancellationToken cancellationToken) =>
        await QueryAsync((connection, ct) => connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) FROM (SELECT 1 FROM runs WHERE {OwnerIs(owner)} AND state = 'QUEUED' LIMIT @maxQueued) AS queued",
            new { owner, maxQueued }, cancellationToken: ct)), cancellationToken) >= maxQueued;

    /// <summary>Whether the run exists, and whom it belongs to.</summary>
    public Task<RunOwnership?> GetOwnershipAsync(string runId, CancellationToken cancellationToken) =>
        QueryAsync((connection, ct) => connection.QuerySingleOrDefaultAsync<RunOwnership>(new CommandDefinition(
            "SELECT run_id, owner FROM runs WHERE run_id = @runId", new { runId }, cancellationToken: ct)), cancellationToken);

    /// <summary>Those of <paramref name="runIds"/> that have a row, looked up in batches.</summary>
    public async Task<IReadOnlySet<string>> FindExistingRunIdsAsync(IReadOnlyList<string> runIds, CancellationToken cancellationToken)
    {
        var existing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var batch in runIds.Chunk(500))
        {
            existing.UnionWith(await QueryListAsync<string>($"SELECT run_id FROM runs WHERE {database.RunIdInListSql}", new { runIds = batch }, cancellationToken));
        }

        return existing;
    }

    private static string QueuedByOwnerSql(string? owner) => $"SELECT COUNT(*) FROM runs WHERE {OwnerIs(owner)} AND state = 'QUEUED'";

    /// <summary>SQL condition: the run belongs to @owner (null: the runs submitted with authentication off).</summary>
    private static string OwnerIs(string? owner) => owner is null ? "owner IS NULL" : "owner = @owner";

    public Task<Run?> GetAsync(string runId, CancellationToken cancellationToken) =>
        QueryAsync((connection, ct) => connection.QuerySingleOrDefaultAsync<Run>(new CommandDefinition(
            $"SELECT {RunColumns} FROM runs WHERE run_id = @runId", new { runId }, cancellationToken: ct)), cancellationToken);

    public async Task<RunState?> GetStateAsync(string runId, CancellationToken cancellationToken)
    {
        var state = await QueryAsync((connection, ct) => connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT state FROM runs WHERE run_id = @runId", new { runId }, cancellationToken: ct)), cancellationToken);
        return state is null ? null : RunStateNames.ParseWes(state);
    }

    /// <summary>
    /// Newest first, keyset-paged on the insertion sequence so inserts never shift a page; only
    /// <paramref name="owner"/>'s runs when one is given.
    /// </summary>
    /// <remarks>
    /// The first page and the later ones are different statements: an optional bound such as
    /// <c>(@beforeSeq IS NULL OR seq &lt; @beforeSeq)</c> hides the range from the planner, which then reads the table
    /// from the newest row down to the page, however deep it is.
    /// </remarks>
    public Task<IReadOnlyList<Run>> ListAsync(long? beforeSeq, int limit, string? owner, CancellationToken cancellationToken) =>
        QueryListAsync<Run>(ListSql(beforeSeq is not null, owner is not null), new { beforeSeq, limit, owner }, cancellationToken);

    /// <summary>The listing statement for a first or later page, of every run or of one owner's.</summary>
    internal static string ListSql(bool laterPage, bool ofOwner)
    {
        var conditions = new List<string>(2);
        if (laterPage)
        {
            conditions.Add("seq < @beforeSeq");
        }

        if (ofOwner)
        {
            conditions.Add("owner = @owner");
        }

        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        return $"SELECT seq, run_id, state, started_at, ended_at, tags_json FROM runs{where} ORDER BY seq DESC LIMIT @limit";
    }

    /// <summary>Runs per state, from the counts the triggers on runs keep (a few rows, whatever the number of runs).</summary>
    public async Task<IReadOnlyDictionary<RunState, long>> CountByStateAsync(CancellationToken cancellationToken)
    {
        var rows = await QueryListAsync<(string State, long Count)>(RunStateCounts.RecordedSql, null, cancellationToken);
        var counts = RunStateNames.All.ToDictionary(state => state, _ => 0L);
        foreach (var (state, count) in rows)
        {
            counts[RunStateNames.ParseWes(state)] += count;
        }

        return counts;
    }

    /// <summary>Atomically moves the oldest claimable QUEUED run to INITIALIZING under this executor's lease.</summary>
    public Task<Run?> TryClaimNextAsync(string owner, TimeSpan lease, CancellationToken cancellationToken) =>
        InTransactionAsync(async (connection, transaction, ct) =>
        {
            var now = Now;
            var run = await connection.QuerySingleOrDefaultAsync<Run>(new CommandDefinition(
                database.ClaimNextSql(RunColumns), new { owner, leaseUntil = now + (long)lease.TotalMilliseconds, now },
                transaction, cancellationToken: ct));
            if (run is not null)
            {
                await InsertHistoryAsync(connection, transaction, run.RunId, RunState.Queued, RunState.Initializing, owner,
                    $"claimed (attempt {run.Attempt})", now, ct);
            }

            return run;
        }, cancellationToken);

    public Task<TransitionOutcome> TransitionAsync(
        string runId, RunState from, RunState to, TransitionChanges changes, string actor, string reason,
        CancellationToken cancellationToken)
    {
        if (!RunTransitions.IsAllowed(from, to))
        {
            throw new InvalidOperationException($"The transition {from.ToWes()} -> {to.ToWes()} is not in the transition table.");
        }

        // The start's QUEUED time comes back with the change, so the pickup latency costs no read of its own.
        var queuedAtSql = to == RunState.Running
            ? "(SELECT MAX(h.at) FROM run_state_history h WHERE h.run_id = runs.run_id AND h.to_state = 'QUEUED')"
            : "NULL";
        return AnnounceAsync(InTransactionAsync(async (connection, transaction, ct) =>
        {
            var now = Now;
            var release = changes.ReleaseLease || to.IsTerminal() || to == RunState.Queued;
            var changed = await connection.QuerySingleOrDefaultAsync<TransitionedRun>(new CommandDefinition(
                $"""
                UPDATE runs SET state = @to, updated_at = @now,
                    ended_at = CASE WHEN @terminal THEN @now ELSE ended_at END,
                    exit_code = COALESCE(@ExitCode, exit_code),
                    outputs_json = COALESCE(@OutputsJson, outputs_json),
                    cmd_json = COALESCE(@CmdJson, cmd_json),
                    engine_pid = CASE WHEN @release THEN NULL ELSE COALESCE(@EnginePid, engine_pid) END,
                    provider_handle = CASE WHEN @release THEN NULL ELSE COALESCE(@ProviderHandle, provider_handle) END,
                    error_message = COALESCE(@ErrorMessage, error_message),
                    system_logs_json = CASE WHEN @systemLog IS NULL THEN system_logs_json ELSE {database.AppendSystemLogSql} END,
                    lease_owner = CASE WHEN @release THEN NULL ELSE lease_owner END,
                    lease_expires_at = CASE WHEN @release THEN NULL ELSE lease_expires_at END,
                    attempt = CASE WHEN @UncountAttempt THEN attempt - 1 ELSE attempt END,
                    not_before = @NotBefore
                WHERE run_id = @runId AND state = @from
                  AND (@RequireLeaseOwner IS NULL OR lease_owner = @RequireLeaseOwner)
                  AND (@RequireLeaseExpiresAt IS NULL OR lease_expires_at = @RequireLeaseExpiresAt)
                RETURNING engine, started_at, {queuedAtSql} AS queued_at
                """,
                new
                {
                    runId, from = from.ToWes(), to = to.ToWes(), now, terminal = to.IsTerminal(), release,
                    systemLog = changes.SystemLog, changes.ExitCode, changes.OutputsJson, changes.CmdJson,
                    changes.EnginePid, changes.ProviderHandle, changes.ErrorMessage, changes.RequireLeaseOwner, changes.RequireLeaseExpiresAt,
                    changes.UncountAttempt, changes.NotBefore,
                }, transaction, cancellationToken: ct));
            if (changed is null)
            {
                return (TransitionOutcome.Conflict, changed);
            }

            changed.At = now;

            await InsertHistoryAsync(connection, transaction, runId, from, to, actor, reason, now, ct);
            if (to == RunState.Queued)
            {
                await database.NotifyAsync(connection, transaction, NotifyChannels.Runs, runId, ct);
            }
            else if (to == RunState.Canceling)
            {
                await database.NotifyAsync(connection, transaction, NotifyChannels.Cancel, runId, ct);
            }
            else if (to.IsTerminal())
            {
                // Here and nowhere else: an alert is committed exactly when the run's end is, never one without the other.
                await outbox.AddAsync(connection, transaction, runId, from, to, now, ct);
            }

            return (TransitionOutcome.Changed, changed);
        }, cancellationToken), runId, to);
    }

    /// <summary>A state change, and once it has committed, the notice this process's executor (and its metrics) must act on.</summary>
    private async Task<TransitionOutcome> AnnounceAsync(Task<(TransitionOutcome, TransitionedRun?)> change, string runId, RunState to)
    {
        var (outcome, run) = await change;
        if (outcome != TransitionOutcome.Changed || run is null)
        {
            return outcome;
        }

        if (to == RunState.Queued)
        {
            events.OnQueued(runId);
        }
        else if (to == RunState.Canceling)
        {
            events.OnCancelRequested(runId);
        }
        else if (to == RunState.Running)
        {
            events.OnStarted(new RunStarted(runId, run.Engine, run.QueuedAt, run.At));
        }
        else if (to.IsTerminal())
        {
            events.OnFinished(new RunFinished(runId, to, run.Engine, run.StartedAt, run.At));
        }

        return outcome;
    }

    /// <summary>What a state change returns of the run: enough to tell the metrics what happened.</summary>
    private sealed class TransitionedRun
    {
        public string Engine { get; set; } = "";
        public long? StartedAt { get; set; }
        public long? QueuedAt { get; set; }
        public long At { get; set; }
    }

    /// <summary>
    /// Extends, in one statement, the leases <paramref name="owner"/> still holds on <paramref name="runIds"/>, and
    /// answers the state of each; a run missing from the answer is no longer held. Synchronous and without retries on
    /// purpose: the lease keeper calls it from a thread of its own, so renewal never waits for the thread pool, and
    /// its next tick is the retry.
    /// </summary>
    public IReadOnlyDictionary<string, RunState> RenewLeases(string owner, IReadOnlyCollection<string> runIds, TimeSpan lease, TimeSpan timeout)
    {
        // Ahead of the group commit's queue: a steady stream of other writes must not keep the lease from renewing.
        return database.WriteNow(connection => connection.Query<(string RunId, string State)>(new CommandDefinition(
                $"UPDATE runs SET lease_expires_at = @leaseUntil WHERE lease_owner = @owner AND {database.RunIdInListSql} RETURNING run_id, state",
                new { owner, runIds = runIds.ToArray(), leaseUntil = Now + (long)lease.TotalMilliseconds }, commandTimeout: Math.Max(1, (int)timeout.TotalSeconds)))
            .ToDictionary(row => row.RunId, row => RunStateNames.ParseWes(row.State), StringComparer.Ordinal), timeout);
    }

    /// <summary>Runs held by an executor whose lease has run out, or by one <paramref name="isDeadOwner"/> knows is gone.</summary>
    public async Task<IReadOnlyList<Run>> FindOrphanedAsync(Func<string, bool> isDeadOwner, CancellationToken cancellationToken)
    {
        // Held runs are few (at most every executor's workers), so the owner test runs here, the same on every database.
        var now = Now;
        var held = await QueryListAsync<Run>(
            $"SELECT {RunColumns} FROM runs WHERE state IN ('INITIALIZING', 'RUNNING', 'CANCELING') ORDER BY seq", null, cancellationToken);
        return held.Where(run => run.LeaseOwner is null || run.LeaseExpiresAt < now || isDeadOwner(run.LeaseOwner)).ToList();
    }

    public Task<IReadOnlyList<RunStateChange>> GetHistoryAsync(string runId, CancellationToken cancellationToken) =>
        QueryListAsync<RunStateChange>(
            "SELECT id, run_id, from_state, to_state, at, actor, reason FROM run_state_history WHERE run_id = @runId ORDER BY id",
            new { runId }, cancellationToken);

    /// <summary>Inserts or refreshes the engine's step records for a run, keyed by task id.</summary>
    /// <remarks>Fenced like every other executor write: nothing is recorded unless <paramref name="leaseOwner"/> still holds the run.</remarks>
    public Task UpsertTasksAsync(string runId, string leaseOwner, IReadOnlyList<RunTask> tasks, CancellationToken cancellationToken)
    {
        if (tasks.Count == 0)
        {
            return Task.CompletedTask;
        }

        foreach (var task in tasks)
        {
            task.RunId = runId;
        }

        var rows = tasks.Select(task => new
        {
            task.RunId, task.TaskId, task.Name, task.CmdJson, task.StartTime, task.EndTime, task.ExitCode, task.SystemLogsJson, leaseOwner,
        });
        return InTransactionAsync((connection, transaction, ct) => connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO run_tasks (run_id, task_id, name, cmd_json, start_time, end_time, exit_code, system_logs_json)
            SELECT @RunId, @TaskId, @Name, @CmdJson, @StartTime, @EndTime, @ExitCode, @SystemLogsJson
            WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = @RunId AND lease_owner = @leaseOwner)
            ON CONFLICT (run_id, task_id) DO UPDATE SET
                name = excluded.name, cmd_json = COALESCE(excluded.cmd_json, run_tasks.cmd_json),
                start_time = COALESCE(run_tasks.start_time, excluded.start_time),
                end_time = COALESCE(excluded.end_time, run_tasks.end_time),
                exit_code = COALESCE(excluded.exit_code, run_tasks.exit_code),
                system_logs_json = COALESCE(excluded.system_logs_json, run_tasks.system_logs_json)
            """, rows, transaction, cancellationToken: ct)), cancellationToken);
    }

    public Task<IReadOnlyList<RunTask>> ListTasksAsync(string runId, long? afterId, int limit, CancellationToken cancellationToken) =>
        QueryListAsync<RunTask>(
            $"""
            SELECT {TaskColumns} FROM run_tasks
            WHERE run_id = @runId AND (@afterId IS NULL OR id > @afterId)
            ORDER BY id LIMIT @limit
            """, new { runId, afterId, limit }, cancellationToken);

    public Task<RunTask?> GetTaskAsync(string runId, string taskId, CancellationToken cancellationToken) =>
        QueryAsync((connection, ct) => connection.QuerySingleOrDefaultAsync<RunTask>(new CommandDefinition(
            $"SELECT {TaskColumns} FROM run_tasks WHERE run_id = @runId AND task_id = @taskId",
            new { runId, taskId }, cancellationToken: ct)), cancellationToken);

    public Task<string> GetOrCreateSettingAsync(string key, Func<string> create, CancellationToken cancellationToken) =>
        InTransactionAsync(async (connection, transaction, ct) =>
        {
            // Insert-if-absent first, so two processes starting together agree on one value.
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO server_settings (key, value) VALUES (@key, @value) ON CONFLICT (key) DO NOTHING",
                new { key, value = create() }, transaction, cancellationToken: ct));
            return await connection.QuerySingleAsync<string>(new CommandDefinition(
                "SELECT value FROM server_settings WHERE key = @key", new { key }, transaction, cancellationToken: ct));
        }, cancellationToken);

    /// <summary>Records that an executor process is alive, with how busy it is.</summary>
    public Task BeatExecutorAsync(ExecutorRecord executor, CancellationToken cancellationToken) =>
        InTransactionAsync((connection, transaction, ct) => connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO executors (id, host, pid, workers, running, started_at, last_seen_at)
            VALUES (@Id, @Host, @Pid, @Workers, @Running, @StartedAt, @LastSeenAt)
            ON CONFLICT (id) DO UPDATE SET running = excluded.running, last_seen_at = excluded.last_seen_at
            """, executor, transaction, cancellationToken: ct)), cancellationToken);

    public Task RemoveExecutorAsync(string id, CancellationToken cancellationToken) =>
        InTransactionAsync((connection, transaction, ct) => connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM executors WHERE id = @id", new { id }, transaction, cancellationToken: ct)), cancellationToken);

    /// <summary>Executors heard from since <paramref name="sinceEpochMs"/>.</summary>
    public Task<IReadOnlyList<ExecutorRecord>> ListExecutorsAsync(long sinceEpochMs, CancellationToken cancellationToken) =>
        QueryListAsync<ExecutorRecord>(
            "SELECT id, host, pid, workers, running, started_at, last_seen_at FROM executors WHERE last_seen_at >= @sinceEpochMs ORDER BY id",
            new { sinceEpochMs }, cancellationToken);

    private async Task<T> QueryAsync<T>(Func<DbConnection, CancellationToken, Task<T>> query, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(async ct =>
        {
            await using var connection = await database.OpenAsync(ct);
            return await query(connection, ct);
        }, cancellationToken);

    private Task<IReadOnlyList<T>> QueryListAsync<T>(string sql, object? parameters, CancellationToken cancellationToken) =>
        QueryAsync<IReadOnlyList<T>>(async (connection, ct) =>
            (await connection.QueryAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: ct))).AsList(), cancellationToken);

    private async Task<T> InTransactionAsync<T>(Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(ct => new ValueTask<T>(database.WriteAsync(work, ct)), cancellationToken);

    private static Task InsertHistoryAsync(
        DbConnection connection, DbTransaction transaction, string runId, RunState? from, RunState to, string actor,
        string reason, long at, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO run_state_history (run_id, from_state, to_state, at, actor, reason)
            VALUES (@runId, @from, @to, @at, @actor, @reason)
            """, new { runId, from = from?.ToWes(), to = to.ToWes(), at, actor, reason }, transaction, cancellationToken: cancellationToken));
}
