using System.Data.Common;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace Wes.Persistence;

/// <summary>
/// Group commit for SQLite. The database has one writer at a time, and every commit waits for the disk to flush the
/// write-ahead log, so writes committed one by one are bound by the disk's flush rate (a few hundred a second, fewer
/// on a busy disk). Write transactions queue here instead: one loop runs every write waiting, each inside a savepoint
/// of one transaction, commits once, and only then answers each of them. A write that throws rolls back its own
/// savepoint and gets its exception; the others commit. A failure of the transaction itself (full disk, I/O error)
/// answers every write of the batch with that failure, and none of them is committed.
/// </summary>
public sealed class SqliteGroupCommit : IAsyncDisposable
{
    /// <summary>Enough to fill one flush under heavy load, small enough that a batch holds the write lock briefly.</summary>
    private const int MaxBatch = 256;

    private readonly Func<DbConnection> _open;
    private readonly Channel<IQueuedWrite> _queue = Channel.CreateUnbounded<IQueuedWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    // Held by the loop for each batch and by a write that goes ahead of the queue (WriteNow), so the two never
    // contend for SQLite's lock itself: a write refused by a busy database only tries again after 150 ms, and a loop
    // starting its next batch microseconds after each commit would never leave it a gap.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _waitingAhead;

    /// <summary>Writes waiting to go ahead of the queue (for tests that need to know one is waiting).</summary>
    internal int WaitingAhead => Volatile.Read(ref _waitingAhead);

    public SqliteGroupCommit(Func<DbConnection> open)
    {
        _open = open;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Runs <paramref name="work"/> in the next batch's transaction; completes once that transaction has committed.</summary>
    public Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var write = new QueuedWrite<T>(work, cancellationToken);
        return _queue.Writer.TryWrite(write)
            ? write.Answer
            : Task.FromException<T>(new ObjectDisposedException(nameof(SqliteGroupCommit), "The database is closing; no more writes are taken."));
    }

    /// <summary>
    /// Runs <paramref name="write"/> on the calling thread, between two batches, ahead of every queued write: for the
    /// lease keeper, whose renewals must go through however busy the queue is, and must not wait for the thread pool.
    /// </summary>
    /// <exception cref="TimeoutException">The current batch did not finish within <paramref name="timeout"/>.</exception>
    public T WriteNow<T>(Func<DbConnection, T> write, TimeSpan timeout)
    {
        Interlocked.Increment(ref _waitingAhead);
        try
        {
            if (!_gate.Wait(timeout))
            {
                throw new TimeoutException($"The database's writer did not make way within {timeout.TotalSeconds:0.#} s.");
            }

            try
            {
                using var connection = _open();
                return write(connection);
            }
            finally
            {
                _gate.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waitingAhead);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Writes already queued are still committed and answered.
        _queue.Writer.TryComplete();
        await _loop;
    }

    private async Task LoopAsync()
    {
        var batch = new List<IQueuedWrite>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var write))
            {
                // A caller that gave up before its write began is answered now; nothing of it runs.
                if (!write.TryCancelBeforeStart())
                {
                    batch.Add(write);
                }
            }

            if (batch.Count > 0)
            {
                // A write waiting to go ahead gets the gate first; the loop looks again a millisecond later.
                while (Volatile.Read(ref _waitingAhead) > 0)
                {
                    await Task.Delay(1);
                }

                await _gate.WaitAsync();
                try
                {
                    await CommitAsync(batch);
                }
                finally
                {
                    _gate.Release();
                }

                batch.Clear();
            }
        }
    }

    private async Task CommitAsync(List<IQueuedWrite> batch)
    {
        try
        {
            await using var connection = _open();
            // BEGIN IMMEDIATE: the write lock is taken up front, so this never deadlocks with another process's writer.
            await using var transaction = await connection.BeginTransactionAsync();
            foreach (var write in batch)
            {
                await write.RunAsync(connection, transaction);
            }

            await transaction.CommitAsync();
        }
        catch (Exception ex)
        {
            // Nothing of the batch was committed (a failed COMMIT rolls back), so no write may be told it succeeded.
            foreach (var write in batch)
            {
                write.Fail(ex);
            }

            return;
        }

        foreach (var write in batch)
        {
            write.Answer();
        }
    }

    private interface IQueuedWrite
    {
        bool TryCancelBeforeStart();

        Task RunAsync(DbConnection connection, DbTransaction transaction);

        void Answer();

        void Fail(Exception exception);
    }

    private sealed class QueuedWrite<T>(Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
        : IQueuedWrite
    {
        private const string Savepoint = "queued_write";

        // Continuations run elsewhere: a caller's code must never run inside the commit loop.
        private readonly TaskCompletionSource<T> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private ExceptionDispatchInfo? _failure;

        public Task<T> Answer => _answer.Task;

        public bool TryCancelBeforeStart() => cancellationToken.IsCancellationRequested && _answer.TrySetCanceled(cancellationToken);

        public async Task RunAsync(DbConnection connection, DbTransaction transaction)
        {
            await transaction.SaveAsync(Savepoint);
            try
            {
                _result = await work(connection, transaction, cancellationToken);
                await transaction.ReleaseAsync(Savepoint);
            }
            catch (Exception ex)
            {
                _failure = ExceptionDispatchInfo.Capture(ex);
                try
                {
                    await transaction.RollbackAsync(Savepoint);
                    await transaction.ReleaseAsync(Savepoint);
                }
                catch (Exception rollbackFailure) when (rollbackFailure is DbException or InvalidOperationException)
                {
                    // SQLite rolls a whole transaction back by itself after some errors (a full disk, an I/O error);
                    // then the savepoint is gone, and the whole batch fails with this write's error.
                    _failure.Throw();
                }
            }
        }

        void IQueuedWrite.Answer()
        {
            if (_failure is not null)
            {
                Fail(_failure.SourceException);
            }
            else
            {
                _answer.TrySetResult(_result!);
            }
        }

        public void Fail(Exception exception)
        {
            if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                _answer.TrySetCanceled(cancellationToken);
            }
            else
            {
                _answer.TrySetException(exception);
            }
        }
    }
}
