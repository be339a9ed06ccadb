using Dapper;

namespace Wes.Persistence;

/// <summary>A state whose kept count differed from the runs actually in it.</summary>
public sealed record StateCountMismatch(string State, long Recorded, long Actual);

/// <summary>
/// The per-state run counts that triggers on runs keep in run_state_counts, and their rebuild from the runs table.
/// </summary>
public sealed class RunStateCounts(IRunDatabase database)
{
    /// <summary>The kept count per state: the sum over its shards. CAST because PostgreSQL sums bigints to numeric.</summary>
    public const string RecordedSql = "SELECT state, CAST(SUM(count) AS BIGINT) FROM run_state_counts GROUP BY state";

    private const string ActualSql = "SELECT state, COUNT(*) FROM runs GROUP BY state";

    /// <summary>
    /// Replaces the counts with a full count of the runs, in one transaction that no state change can interleave
    /// with, and answers the states whose kept count was wrong. Reads every run: for `migrate`, not for start-up.
    /// </summary>
    public async Task<IReadOnlyList<StateCountMismatch>> RebuildAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // SQLite: BEGIN IMMEDIATE holds the one write lock. PostgreSQL: SHARE mode lets readers on but makes every
        // INSERT, UPDATE and DELETE on runs (and so every trigger) wait until this commits.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (database.Kind == DatabaseKind.PostgreSql)
        {
            await connection.ExecuteAsync(new CommandDefinition("LOCK TABLE runs IN SHARE MODE", transaction: transaction, cancellationToken: cancellationToken));
        }

        var recorded = await ReadAsync(RecordedSql);
        var actual = await ReadAsync(ActualSql);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM run_state_counts", transaction: transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO run_state_counts (state, shard, count) VALUES (@Key, 0, @Value)", actual, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);

        return recorded.Keys.Union(actual.Keys)
            .Select(state => new StateCountMismatch(state, recorded.GetValueOrDefault(state), actual.GetValueOrDefault(state)))
            .Where(m => m.Recorded != m.Actual)
            .OrderBy(m => m.State, StringComparer.Ordinal)
            .ToList();

        async Task<Dictionary<string, long>> ReadAsync(string sql) =>
            (await connection.QueryAsync<(string State, long Count)>(new CommandDefinition(sql, transaction: transaction, cancellationToken: cancellationToken)))
            .ToDictionary(row => row.State, row => row.Count, StringComparer.Ordinal);
    }
}
