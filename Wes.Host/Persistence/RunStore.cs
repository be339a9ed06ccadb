using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Wes.Runs;

namespace Wes.Persistence;

/// <summary>
/// Every read and write of runs. Each state change is one conditional UPDATE (only from the expected state)
/// plus one history row, in one transaction; it answers Changed or Conflict and never throws for a race.
/// </summary>
public sealed class RunStore(SqliteConnectionFactory connections, TimeProvider clock)
{
    private const string RunColumns =
        "seq, run_id, state, submitted_at, started_at, ended_at, updated_at, provider, workflow_type, " +
        "workflow_type_version, workflow_url, engine, engine_version, attempt, lease_owner, lease_expires_at, " +
        "engine_pid, exit_code, error_message, cmd_json, outputs_json, request_json, tags_json, system_logs_json";

    static RunStore() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task InsertAsync(Run run, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        run.UpdatedAt = run.SubmittedAt;
        run.Seq = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO runs (run_id, state, submitted_at, updated_at, provider, workflow_type, workflow_type_version,
                              workflow_url, engine, engine_version, attempt, request_json, tags_json, system_logs_json)
            VALUES (@RunId, @State, @SubmittedAt, @UpdatedAt, @Provider, @WorkflowType, @WorkflowTypeVersion,
                    @WorkflowUrl, @Engine, @EngineVersion, 0, @RequestJson, @TagsJson, @SystemLogsJson)
            RETURNING seq
            """, run, transaction, cancellationToken: cancellationToken));
        await InsertHistoryAsync(connection, transaction, run.RunId, null, run.RunState, actor, "submitted", run.SubmittedAt, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<Run?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Run>(new CommandDefinition(
            $"SELECT {RunColumns} FROM runs WHERE run_id = @runId", new { runId }, cancellationToken: cancellationToken));
    }

    public async Task<RunState?> GetStateAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var state = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT state FROM runs WHERE run_id = @runId", new { runId }, cancellationToken: cancellationToken));
        return state is null ? null : RunStateNames.ParseWes(state);
    }

    /// <summary>Newest first, keyset-paged on the insertion sequence so inserts never shift a page.</summary>
    public async Task<IReadOnlyList<Run>> ListAsync(long? beforeSeq, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<Run>(new CommandDefinition(
            """
            SELECT seq, run_id, state, started_at, ended_at, tags_json FROM runs
            WHERE @beforeSeq IS NULL OR seq < @beforeSeq
            ORDER BY seq DESC LIMIT @limit
            """, new { beforeSeq, limit }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public async Task<IReadOnlyDictionary<RunState, long>> CountByStateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string State, long Count)>(new CommandDefinition(
            "SELECT state, COUNT(*) FROM runs GROUP BY state", cancellationToken: cancellationToken));
        var counts = RunStateNames.All.ToDictionary(state => state, _ => 0L);
        foreach (var (state, count) in rows)
        {
            counts[RunStateNames.ParseWes(state)] += count;
        }

        return counts;
    }

    /// <summary>Atomically moves the oldest QUEUED run to INITIALIZING under this executor's lease.</summary>
    public async Task<Run?> TryClaimNextAsync(string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = Now;
        await using var connection = await connections.OpenAsync(cancellationToken);
        // SQLite's write transaction is exclusive, so two claimers can never pick the same row.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var run = await connection.QuerySingleOrDefaultAsync<Run>(new CommandDefinition(
            $"""
            UPDATE runs SET state = 'INITIALIZING', lease_owner = @owner, lease_expires_at = @leaseUntil,
                            attempt = attempt + 1, started_at = COALESCE(started_at, @now), updated_at = @now,
                            exit_code = NULL, engine_pid = NULL
            WHERE seq = (SELECT seq FROM runs WHERE state = 'QUEUED' ORDER BY seq LIMIT 1) AND state = 'QUEUED'
            RETURNING {RunColumns}
            """, new { owner, leaseUntil = now + (long)lease.TotalMilliseconds, now }, transaction, cancellationToken: cancellationToken));
        if (run is null)
        {
            return null;
        }

        await InsertHistoryAsync(connection, transaction, run.RunId, RunState.Queued, RunState.Initializing, owner,
            $"claimed (attempt {run.Attempt})", now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return run;
    }

    public async Task<TransitionOutcome> TransitionAsync(
        string runId, RunState from, RunState to, TransitionChanges changes, string actor, string reason,
        CancellationToken cancellationToken)
    {
        if (!RunTransitions.IsAllowed(from, to))
        {
            throw new InvalidOperationException($"The transition {from.ToWes()} -> {to.ToWes()} is not in the transition table.");
        }

        var now = Now;
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        string? systemLogs = null;
        if (changes.SystemLog is not null)
        {
            var current = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT system_logs_json FROM runs WHERE run_id = @runId", new { runId }, transaction, cancellationToken: cancellationToken));
            var logs = JsonNode.Parse(current ?? "[]") as JsonArray ?? [];
            logs.Add(changes.SystemLog);
            systemLogs = logs.ToJsonString();
        }

        var ended = to.IsTerminal() ? now : (long?)null;
        var requeued = to == RunState.Queued;
        var affected = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE runs SET state = @to, updated_at = @now,
                ended_at = CASE WHEN @ended IS NULL THEN ended_at ELSE @ended END,
                exit_code = COALESCE(@ExitCode, exit_code),
                outputs_json = COALESCE(@OutputsJson, outputs_json),
                cmd_json = COALESCE(@CmdJson, cmd_json),
                engine_version = COALESCE(@EngineVersion, engine_version),
                engine_pid = CASE WHEN @release THEN NULL ELSE COALESCE(@EnginePid, engine_pid) END,
                error_message = COALESCE(@ErrorMessage, error_message),
                system_logs_json = COALESCE(@systemLogs, system_logs_json),
                lease_owner = CASE WHEN @release THEN NULL ELSE lease_owner END,
                lease_expires_at = CASE WHEN @release THEN NULL ELSE lease_expires_at END,
                attempt = CASE WHEN @UncountAttempt THEN attempt - 1 ELSE attempt END
            WHERE run_id = @runId AND state = @from
              AND (@RequireLeaseOwner IS NULL OR lease_owner = @RequireLeaseOwner)
            """,
            new
            {
                runId, from = from.ToWes(), to = to.ToWes(), now, ended, systemLogs,
                release = changes.ReleaseLease || to.IsTerminal() || requeued,
                changes.ExitCode, changes.OutputsJson, changes.CmdJson, changes.EngineVersion, changes.EnginePid,
                changes.ErrorMessage, changes.RequireLeaseOwner, changes.UncountAttempt,
            }, transaction, cancellationToken: cancellationToken));
        if (affected == 0)
        {
            return TransitionOutcome.Conflict;
        }

        await InsertHistoryAsync(connection, transaction, runId, from, to, actor, reason, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TransitionOutcome.Changed;
    }

    /// <summary>Extends the lease while the engine runs; answers the current state, or null once the lease is lost.</summary>
    public async Task<RunState?> RenewLeaseAsync(string runId, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = Now;
        await using var connection = await connections.OpenAsync(cancellationToken);
        var state = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            """
            UPDATE runs SET lease_expires_at = @leaseUntil
            WHERE run_id = @runId AND lease_owner = @owner
            RETURNING state
            """, new { runId, owner, leaseUntil = now + (long)lease.TotalMilliseconds }, cancellationToken: cancellationToken));
        return state is null ? null : RunStateNames.ParseWes(state);
    }

    /// <summary>Runs held by an executor whose lease has run out, or by one of <paramref name="deadOwners"/>.</summary>
    public async Task<IReadOnlyList<Run>> FindOrphanedAsync(IReadOnlyCollection<string> deadOwners, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<Run>(new CommandDefinition(
            $"""
            SELECT {RunColumns} FROM runs
            WHERE state IN ('INITIALIZING', 'RUNNING', 'CANCELING')
              AND (lease_owner IS NULL OR lease_expires_at < @now OR lease_owner IN @deadOwners)
            ORDER BY seq
            """, new { now = Now, deadOwners = deadOwners.Count == 0 ? [""] : deadOwners }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    /// <summary>Lease owners of all runs currently held, so the reconciler can tell which of them are dead.</summary>
    public async Task<IReadOnlyList<string>> ListLeaseOwnersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT DISTINCT lease_owner FROM runs WHERE lease_owner IS NOT NULL AND state IN ('INITIALIZING', 'RUNNING', 'CANCELING')",
            cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public async Task<IReadOnlyList<RunStateChange>> GetHistoryAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<RunStateChange>(new CommandDefinition(
            "SELECT id, run_id, from_state, to_state, at, actor, reason FROM run_state_history WHERE run_id = @runId ORDER BY id",
            new { runId }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    /// <summary>Inserts or refreshes the engine's step records for a run, keyed by task id.</summary>
    public async Task UpsertTasksAsync(string runId, IReadOnlyList<RunTask> tasks, CancellationToken cancellationToken)
    {
        if (tasks.Count == 0)
        {
            return;
        }

        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var task in tasks)
        {
            task.RunId = runId;
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO run_tasks (run_id, task_id, name, cmd_json, start_time, end_time, exit_code, system_logs_json)
                VALUES (@RunId, @TaskId, @Name, @CmdJson, @StartTime, @EndTime, @ExitCode, @SystemLogsJson)
                ON CONFLICT (run_id, task_id) DO UPDATE SET
                    name = excluded.name, cmd_json = COALESCE(excluded.cmd_json, run_tasks.cmd_json),
                    start_time = COALESCE(run_tasks.start_time, excluded.start_time),
                    end_time = COALESCE(excluded.end_time, run_tasks.end_time),
                    exit_code = COALESCE(excluded.exit_code, run_tasks.exit_code),
                    system_logs_json = COALESCE(excluded.system_logs_json, run_tasks.system_logs_json)
                """, task, transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<RunTask>> ListTasksAsync(string runId, long? afterId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<RunTask>(new CommandDefinition(
            """
            SELECT id, run_id, task_id, name, cmd_json, start_time, end_time, exit_code, system_logs_json FROM run_tasks
            WHERE run_id = @runId AND (@afterId IS NULL OR id > @afterId)
            ORDER BY id LIMIT @limit
            """, new { runId, afterId, limit }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public async Task<RunTask?> GetTaskAsync(string runId, string taskId, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<RunTask>(new CommandDefinition(
            """
            SELECT id, run_id, task_id, name, cmd_json, start_time, end_time, exit_code, system_logs_json FROM run_tasks
            WHERE run_id = @runId AND task_id = @taskId
            """, new { runId, taskId }, cancellationToken: cancellationToken));
    }

    public async Task<string> GetOrCreateSettingAsync(string key, Func<string> create, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        // INSERT OR IGNORE first, so two processes starting together agree on one value.
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO server_settings (key, value) VALUES (@key, @value) ON CONFLICT (key) DO NOTHING",
            new { key, value = create() }, cancellationToken: cancellationToken));
        return await connection.QuerySingleAsync<string>(new CommandDefinition(
            "SELECT value FROM server_settings WHERE key = @key", new { key }, cancellationToken: cancellationToken));
    }

    private static Task InsertHistoryAsync(
        DbConnection connection, DbTransaction transaction, string runId, RunState? from, RunState to, string actor,
        string reason, long at, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO run_state_history (run_id, from_state, to_state, at, actor, reason)
            VALUES (@runId, @from, @to, @at, @actor, @reason)
            """, new { runId, from = from?.ToWes(), to = to.ToWes(), at, actor, reason }, transaction, cancellationToken: cancellationToken));

    internal static string ToJson<T>(T value) => JsonSerializer.Serialize(value);
}
