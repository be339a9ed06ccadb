using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Persistence;

/// <summary>Writes that wait together share one transaction, and each is answered only after that transaction commits.</summary>
public sealed class SqliteGroupCommitTests : IAsyncLifetime
{
    private readonly string _folder = TempDirectory.Create("wes-group-commit");
    private SqliteRunDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = new SqliteRunDatabase($"Data Source={Path.Combine(_folder, "writes.db")}");
        await using var connection = await _database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync("PRAGMA journal_mode=WAL; CREATE TABLE items (name TEXT PRIMARY KEY)");
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        SqliteConnection.ClearAllPools();
        TempDirectory.Delete(_folder);
    }

    [Fact]
    public async Task WritesQueuedWhileABatchCommits_ShareTheNextTransaction()
    {
        var firstRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = _database.WriteAsync(async (connection, transaction, ct) =>
        {
            firstRunning.SetResult();
            await releaseFirst.Task;
            return await InsertAsync(connection, transaction, "first", ct);
        }, CancellationToken.None);
        await firstRunning.Task;

        // The loop is busy with the first batch, so these ten wait together.
        var waiting = Enumerable.Range(0, 10).Select(i => _database.WriteAsync(
            (connection, transaction, ct) => InsertAsync(connection, transaction, $"item-{i}", ct), CancellationToken.None)).ToList();
        releaseFirst.SetResult();

        var firstTransaction = await first;
        var transactions = await Task.WhenAll(waiting);
        Assert.Single(transactions.Distinct());
        Assert.NotSame(firstTransaction, transactions[0]);
        Assert.Equal(11, await CountAsync());
    }

    [Fact]
    public async Task AWriteThatThrows_RollsBackItselfAndTheOthersCommit()
    {
        var (before, failing, after) = await WithHeldLoopAsync(() =>
        (
            _database.WriteAsync((c, t, ct) => InsertAsync(c, t, "before", ct), CancellationToken.None),
            _database.WriteAsync<DbTransaction>(async (c, t, ct) =>
            {
                await InsertAsync(c, t, "failing", ct);
                throw new InvalidOperationException("refused by the write itself");
            }, CancellationToken.None),
            _database.WriteAsync((c, t, ct) => InsertAsync(c, t, "after", ct), CancellationToken.None)
        ));

        Assert.Same(await before, await after);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        Assert.Equal("refused by the write itself", error.Message);
        Assert.Equal(["after", "before"], await NamesAsync());
    }

    [Fact]
    public async Task AWriteThatEndsTheTransaction_FailsTheWholeBatchAndNothingIsCommitted()
    {
        var (before, failing, after) = await WithHeldLoopAsync(() =>
        (
            _database.WriteAsync((c, t, ct) => InsertAsync(c, t, "before", ct), CancellationToken.None),
            _database.WriteAsync<DbTransaction>(async (c, t, ct) =>
            {
                // What SQLite does by itself after a full disk or an I/O error: the transaction is gone.
                await c.ExecuteAsync(new CommandDefinition("ROLLBACK", transaction: t, cancellationToken: ct));
                throw new IOException("the disk failed");
            }, CancellationToken.None),
            _database.WriteAsync((c, t, ct) => InsertAsync(c, t, "after", ct), CancellationToken.None)
        ));

        foreach (var write in new[] { before, failing, after })
        {
            var error = await Assert.ThrowsAsync<IOException>(() => write);
            Assert.Equal("the disk failed", error.Message);
        }

        Assert.Empty(await NamesAsync());
    }

    [Fact]
    public async Task AWriteCanceledBeforeItsBatchStarts_NeverRuns()
    {
        using var canceled = new CancellationTokenSource();
        var ran = false;
        var (write, other, _) = await WithHeldLoopAsync(() =>
        {
            var queued = _database.WriteAsync((c, t, ct) =>
            {
                ran = true;
                return InsertAsync(c, t, "canceled", ct);
            }, canceled.Token);
            canceled.Cancel();
            var next = _database.WriteAsync((c, t, ct) => InsertAsync(c, t, "kept", ct), CancellationToken.None);
            return (queued, next, next);
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => write);
        await other;
        Assert.False(ran);
        Assert.Equal(["kept"], await NamesAsync());
    }

    [Fact]
    public async Task AnAnsweredWrite_IsVisibleToEveryOtherConnection()
    {
        var writes = Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            await _database.WriteAsync((c, t, ct) => InsertAsync(c, t, $"row-{i}", ct), CancellationToken.None);
            // Answered means committed: a fresh connection, outside the loop, already sees the row.
            await using var reader = new SqliteConnection(_database.ConnectionString);
            await reader.OpenAsync();
            return await reader.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items WHERE name = @name", new { name = $"row-{i}" });
        })).ToList();

        Assert.All(await Task.WhenAll(writes), count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task AWriteAheadOfTheQueue_GoesBeforeWritesAlreadyWaiting()
    {
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var (holder, release) = await HoldLoopAsync();
        var queued = _database.WriteAsync(async (c, t, ct) =>
        {
            order.Enqueue("queued");
            return await InsertAsync(c, t, "queued", ct);
        }, CancellationToken.None);

        // The lease keeper's way in: its own thread, waiting for the batch in progress and nothing else.
        var ahead = Task.Factory.StartNew(() => _database.WriteNow(connection =>
        {
            order.Enqueue("ahead");
            return connection.Execute("INSERT INTO items (name) VALUES ('ahead')");
        }, TimeSpan.FromSeconds(30)), TaskCreationOptions.LongRunning);
        await ProcessTable.WaitUntilAsync(() => _database.Writes.WaitingAhead == 1, TimeSpan.FromSeconds(10), "the write ahead of the queue to wait for the gate");
        release.SetResult();

        await Task.WhenAll(holder, queued, ahead);
        Assert.Equal(["ahead", "queued"], order.ToArray());
        Assert.Equal(["ahead", "queued"], await NamesAsync());
    }

    /// <summary>Queues the writes <paramref name="queue"/> makes while the loop is held by another write, so they form one batch.</summary>
    private async Task<(Task<T> A, Task<T> B, Task<T> C)> WithHeldLoopAsync<T>(Func<(Task<T>, Task<T>, Task<T>)> queue)
    {
        var (holder, release) = await HoldLoopAsync();
        var writes = queue();
        release.SetResult();
        await holder;
        return writes;
    }

    /// <summary>A write that keeps the loop busy, inside its batch, until <c>Release</c> is set.</summary>
    private async Task<(Task<int> Holder, TaskCompletionSource Release)> HoldLoopAsync()
    {
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = _database.WriteAsync(async (_, _, _) =>
        {
            holding.SetResult();
            await release.Task;
            return 0;
        }, CancellationToken.None);
        await holding.Task;
        return (holder, release);
    }

    private static async Task<DbTransaction> InsertAsync(DbConnection connection, DbTransaction transaction, string name, CancellationToken ct)
    {
        await connection.ExecuteAsync(new CommandDefinition("INSERT INTO items (name) VALUES (@name)", new { name }, transaction, cancellationToken: ct));
        return transaction;
    }

    private async Task<long> CountAsync()
    {
        await using var connection = await _database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items");
    }

    private async Task<List<string>> NamesAsync()
    {
        await using var connection = await _database.OpenAsync(CancellationToken.None);
        return (await connection.QueryAsync<string>("SELECT name FROM items ORDER BY name")).AsList();
    }
}
