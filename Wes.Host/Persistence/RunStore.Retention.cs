using Dapper;
using Wes.Runs;

namespace Wes.Persistence;

/// <summary>An ended run whose files are still on disk, as the retention sweep pages through them.</summary>
public sealed class RetentionCandidate
{
    public string RunId { get; set; } = "";
    public long EndedAt { get; set; }
    public string State { get; set; } = "";

    /// <summary>Only a terminal run ever gets an end time; checked all the same before anything is removed.</summary>
    public bool HasEnded => RunStateNames.ParseWes(State).IsTerminal();
}

/// <summary>What the file endpoints need to know of a run: that it exists, and whether retention removed its files.</summary>
public sealed class RunFileStatus
{
    public string State { get; set; } = "";
    public long? FilesRemovedAt { get; set; }
}

public sealed partial class RunStore
{
    private static readonly string TerminalStates =
        string.Join(", ", RunStateNames.All.Where(state => state.IsTerminal()).Select(state => $"'{state.ToWes()}'"));

    /// <summary>
    /// Up to <paramref name="limit"/> ended runs, ended before <paramref name="endedBefore"/> and still holding files,
    /// oldest first, after <paramref name="after"/>. The conditions repeat the filter of ix_runs_retention_candidates,
    /// so the planner reads that index in order and stops at the limit. No condition on the state: SQLite would pick
    /// the state index instead and sort every finished run.
    /// </summary>
    public Task<IReadOnlyList<RetentionCandidate>> FindRetentionCandidatesAsync(
        long endedBefore, RetentionCandidate? after, int limit, CancellationToken cancellationToken)
    {
        var page = after is null ? "" : " AND (ended_at > @afterEndedAt OR (ended_at = @afterEndedAt AND run_id > @afterRunId))";
        return QueryListAsync<RetentionCandidate>(
            $"""
            SELECT run_id, ended_at, state FROM runs
            WHERE files_removed_at IS NULL AND ended_at IS NOT NULL AND ended_at < @endedBefore{page}
            ORDER BY ended_at, run_id LIMIT @limit
            """,
            new { endedBefore, afterEndedAt = after?.EndedAt, afterRunId = after?.RunId, limit }, cancellationToken);
    }

    /// <summary>
    /// Records, once, that the run's files were removed, with a line in its system logs. Conditional, so executors
    /// that swept the same run at the same time write one record and one line between them: false for the others.
    /// </summary>
    public async Task<bool> MarkFilesRemovedAsync(string runId, string systemLog, CancellationToken cancellationToken) =>
        await InTransactionAsync((connection, transaction, ct) => connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE runs SET files_removed_at = @now, system_logs_json = {database.AppendSystemLogSql}
            WHERE run_id = @runId AND files_removed_at IS NULL AND ended_at IS NOT NULL AND state IN ({TerminalStates})
            """, new { runId, now = Now, systemLog }, transaction, cancellationToken: ct)), cancellationToken) == 1;

    /// <summary>The run's state and when its files were removed; null if there is no such run.</summary>
    public Task<RunFileStatus?> GetFileStatusAsync(string runId, CancellationToken cancellationToken) =>
        QueryAsync((connection, ct) => connection.QuerySingleOrDefaultAsync<RunFileStatus>(new CommandDefinition(
            "SELECT state, files_removed_at FROM runs WHERE run_id = @runId", new { runId }, cancellationToken: ct)), cancellationToken);
}
