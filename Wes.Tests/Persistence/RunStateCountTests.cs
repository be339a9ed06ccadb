using System.Data.Common;
using Dapper;
using Npgsql;
using Wes.Persistence;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Persistence;

/// <summary>The per-state counts the triggers keep, against a full count of the runs, on each database.</summary>
public abstract class RunStateCountContract : IDisposable
{
    private readonly WesApplicationFactory _factory;
    private readonly RunStore _store;
    private readonly IRunDatabase _database;

    protected RunStateCountContract(string? connectionString)
    {
        _factory = new WesApplicationFactory(workers: 0,
            settings: connectionString is null ? null : new Dictionary<string, string?> { ["Wes:Database"] = connectionString });
        _factory.CreateClient().Dispose(); // starts the host, which applies the migrations
        _store = _factory.Service<RunStore>();
        _database = _factory.Service<IRunDatabase>();
    }

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Counts_EqualAFullCount_AfterManyRandomTransitionsClaimsAndConflicts()
    {
        var random = new Random(20261203);
        var runIds = new List<string>();
        var outcomes = new Dictionary<TransitionOutcome, int> { [TransitionOutcome.Changed] = 0, [TransitionOutcome.Conflict] = 0 };
        var pairs = RunTransitions.All().ToList();
        for (var step = 0; step < 400; step++)
        {
            switch (random.Next(8))
            {
                case 0 or 1:
                    var run = RunBuilder.Queued();
                    await _store.InsertAsync(run, "test", int.MaxValue, CancellationToken.None);
                    runIds.Add(run.RunId);
                    break;
                case 2:
                    await _store.TryClaimNextAsync("executor-" + random.Next(3), TimeSpan.FromMinutes(1), CancellationToken.None);
                    break;
                default:
                    if (runIds.Count == 0)
                    {
                        break;
                    }

                    // Half the time from the run's real state (mostly Changed), half from any state (mostly Conflict).
                    var runId = runIds[random.Next(runIds.Count)];
                    var current = (await _store.GetStateAsync(runId, CancellationToken.None))!.Value;
                    var fromCurrent = pairs.Where(p => p.From == current).ToList();
                    var (from, to) = random.Next(2) == 0 && fromCurrent.Count > 0
                        ? fromCurrent[random.Next(fromCurrent.Count)]
                        : pairs[random.Next(pairs.Count)];
                    outcomes[await _store.TransitionAsync(runId, from, to, TransitionChanges.None, "test", "random", CancellationToken.None)]++;
                    break;
            }

            if (step % 100 == 99)
            {
                await AssertCountsExactAsync();
            }
        }

        Assert.True(outcomes[TransitionOutcome.Changed] > 50, $"changed {outcomes[TransitionOutcome.Changed]}");
        Assert.True(outcomes[TransitionOutcome.Conflict] > 50, $"conflicts {outcomes[TransitionOutcome.Conflict]}");
        var history = await QueryCountAsync("SELECT COUNT(*) FROM run_state_history WHERE from_state = 'RUNNING' AND to_state = 'QUEUED'");
        Assert.True(history > 0, "no run went back to the queue");
    }

    [Fact]
    public async Task Counts_StayExact_WhenATransactionThatChangedStatesIsRolledBack()
    {
        foreach (var _ in Enumerable.Range(0, 5))
        {
            await _store.InsertAsync(RunBuilder.Queued(), "test", int.MaxValue, CancellationToken.None);
        }

        var before = await _store.CountByStateAsync(CancellationToken.None);
        await using (var connection = await _database.OpenAsync(CancellationToken.None))
        {
            var transaction = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync("UPDATE runs SET state = 'CANCELED' WHERE state = 'QUEUED'", transaction: transaction);
            await connection.ExecuteAsync("DELETE FROM runs WHERE seq = (SELECT MIN(seq) FROM runs)", transaction: transaction);
            // The triggers did count the changes inside the transaction...
            var inside = await connection.ExecuteScalarAsync<long>(
                "SELECT CAST(SUM(count) AS BIGINT) FROM run_state_counts WHERE state = 'CANCELED'", transaction: transaction);
            Assert.Equal(4, inside);
            // ...and the connection goes away without a commit, as when the process dies mid-transaction.
        }

        Assert.Equal(before, await _store.CountByStateAsync(CancellationToken.None));
        Assert.Equal(5, before[RunState.Queued]);
        await AssertCountsExactAsync();
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task ListingPages_ReadTheirKeyRange_NotTheTable(bool laterPage, bool ofOwner)
    {
        var plan = await ExplainAsync(RunStore.ListSql(laterPage, ofOwner));

        Assert.DoesNotMatch(ScannedTable, plan);
        Assert.Contains(ofOwner ? "IX_runs_owner_seq" : KeyName, plan, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstPageOfAllRuns_ReadsNewestFirstInKeyOrder_WithoutSorting()
    {
        // Without a bound there is no range to search: the plan walks the key from the newest row and stops at the limit.
        var plan = await ExplainAsync(RunStore.ListSql(laterPage: false, ofOwner: false));

        Assert.DoesNotContain("TEMP B-TREE", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
    }

    /// <summary>A plan line that reads the whole runs table.</summary>
    protected abstract System.Text.RegularExpressions.Regex ScannedTable { get; }

    protected abstract string KeyName { get; }

    protected abstract Task<string> ExplainAsync(string sql);

    protected Task<DbConnection> OpenAsync() => _database.OpenAsync(CancellationToken.None);

    private async Task<long> QueryCountAsync(string sql)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    private async Task AssertCountsExactAsync()
    {
        await using var connection = await OpenAsync();
        await StateCountAssert.ExactAsync(connection);
        var kept = await _store.CountByStateAsync(CancellationToken.None);
        var actual = await StateCountAssert.ActualAsync(connection);
        Assert.Equal(actual, kept.Where(pair => pair.Value != 0).ToDictionary(pair => pair.Key.ToWes(), pair => pair.Value));
    }
}

public sealed partial class SqliteRunStateCountTests() : RunStateCountContract(null)
{
    protected override System.Text.RegularExpressions.Regex ScannedTable => Scan();

    protected override string KeyName => "INTEGER PRIMARY KEY";

    protected override async Task<string> ExplainAsync(string sql)
    {
        await using var connection = await OpenAsync();
        var rows = await connection.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>(
            "EXPLAIN QUERY PLAN " + sql, new { beforeSeq = 1000L, owner = "alice", limit = 100 });
        return string.Join("\n", rows.Select(row => row.Detail));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\bSCAN runs\b")]
    private static partial System.Text.RegularExpressions.Regex Scan();
}

[Collection(PostgresCollection.Name)]
public sealed partial class PostgresRunStateCountTests(PostgresServer postgres) : RunStateCountContract(postgres.CreateDatabase())
{
    protected override System.Text.RegularExpressions.Regex ScannedTable => SeqScan();

    protected override string KeyName => "PK_runs";

    protected override async Task<string> ExplainAsync(string sql)
    {
        await using var connection = (NpgsqlConnection)await OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // A test table is small enough that reading all of it wins; forbid that to see whether the key can serve.
        await connection.ExecuteAsync("SET LOCAL enable_seqscan = off", transaction: transaction);
        var lines = await connection.QueryAsync<string>("EXPLAIN " + sql, new { beforeSeq = 1000L, owner = "alice", limit = 100 }, transaction);
        return string.Join("\n", lines);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"Seq Scan on runs\b")]
    private static partial System.Text.RegularExpressions.Regex SeqScan();
}

/// <summary>Compares the kept counts with a full count of the runs, on any connection.</summary>
public static class StateCountAssert
{
    public static async Task<Dictionary<string, long>> ActualAsync(DbConnection connection) =>
        (await connection.QueryAsync<(string State, long Count)>("SELECT state, COUNT(*) FROM runs GROUP BY state"))
        .ToDictionary(row => row.State, row => row.Count);

    public static async Task<Dictionary<string, long>> KeptAsync(DbConnection connection) =>
        (await connection.QueryAsync<(string State, long Count)>(RunStateCounts.RecordedSql))
        .Where(row => row.Count != 0).ToDictionary(row => row.State, row => row.Count);

    public static async Task ExactAsync(DbConnection connection)
    {
        var actual = await ActualAsync(connection);
        Assert.NotEmpty(actual);
        Assert.Equal(actual, await KeptAsync(connection));
    }
}
