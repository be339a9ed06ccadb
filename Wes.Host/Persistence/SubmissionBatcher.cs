using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Persistence;

/// <summary>
/// Group commit for submissions: one writer takes every submission waiting (up to <see cref="MaxBatch"/>), makes their
/// files durable with one file-system sync, then inserts them all in one transaction with one commit, and only then
/// answers each. A client told its run exists can rely on the row and the files having reached the disk.
/// </summary>
public sealed class SubmissionBatcher(RunStore store, IOptions<WesOptions> options, ILogger<SubmissionBatcher> logger) : IHostedService
{
    public const int MaxBatch = 256;

    private readonly Channel<PendingInsert> _queue =
        Channel.CreateUnbounded<PendingInsert>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>
    /// Queues <paramref name="item"/> for the next batch and answers once that batch has committed (or failed).
    /// <paramref name="hasFiles"/>: the run's folder was written and must be synced before the commit.
    /// </summary>
    /// <exception cref="SubmissionsClosedException">The server is shutting down.</exception>
    public async Task<InsertOutcome> InsertAsync(RunInsert item, bool hasFiles, CancellationToken cancellationToken)
    {
        var pending = new PendingInsert(item, hasFiles, cancellationToken);
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new SubmissionsClosedException();
        }

        // Not abandoned when the client goes: a batch that has taken the item may commit it, and the caller must then
        // keep the run's files. An item still waiting when its request is cancelled is dropped by the batch.
        return await pending.Outcome.Task;
    }

    private Task? _loop;

    // Not a BackgroundService: its loop may never start when stopping comes early, and queued items would wait for ever.
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(CommitQueuedAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Refuses new submissions, then waits while the loop commits what was already queued (bounded by the host's shutdown time-out).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (_loop is null)
        {
            while (_queue.Reader.TryRead(out var pending))
            {
                pending.Outcome.TrySetException(new SubmissionsClosedException());
            }

            return;
        }

        await _loop.WaitAsync(cancellationToken);
    }

    private async Task CommitQueuedAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<PendingInsert>(MaxBatch);
        // Ends once StopAsync has closed the queue and every item already in it has been committed.
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var pending))
            {
                if (pending.Cancellation.IsCancellationRequested)
                {
                    pending.Outcome.TrySetCanceled(pending.Cancellation);
                    continue;
                }

                batch.Add(pending);
            }

            if (batch.Count > 0)
            {
                await CommitAsync(batch);
                batch.Clear();
            }
        }
    }

    private async Task CommitAsync(List<PendingInsert> batch)
    {
        try
        {
            // 1. Files first: a committed row must never point at files the disk does not have yet.
            if (batch.Exists(p => p.HasFiles))
            {
                await FileSystemSync.SyncAsync(options.Value.RunsDir, CancellationToken.None);
            }

            // 2. One transaction, one commit for the whole batch.
            var outcomes = await store.InsertBatchAsync(batch.ConvertAll(p => p.Item), CancellationToken.None);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Outcome.TrySetResult(outcomes[i]);
            }
        }
        catch (Exception ex) when (batch.Count > 1 && StorageFaults.Classify(ex) == StorageFault.None)
        {
            // Most likely one item's statement failed; the others must not pay for it.
            logger.LogWarning(ex, "A batch of {Count} submissions failed; storing them one at a time", batch.Count);
            foreach (var pending in batch)
            {
                await CommitOneAsync(pending);
            }
        }
        catch (Exception ex)
        {
            // A full disk or an unreachable database: every item gets the answer it would have had alone.
            batch.ForEach(p => p.Outcome.TrySetException(ex));
        }
    }

    private async Task CommitOneAsync(PendingInsert pending)
    {
        try
        {
            var item = pending.Item;
            pending.Outcome.TrySetResult(await store.InsertAsync(item.Run, item.Actor, item.MaxQueued, item.Key, CancellationToken.None));
        }
        catch (Exception ex)
        {
            pending.Outcome.TrySetException(ex);
        }
    }

    private sealed record PendingInsert(RunInsert Item, bool HasFiles, CancellationToken Cancellation)
    {
        // Answered off the batch loop, so one slow caller never holds up the next batch.
        public TaskCompletionSource<InsertOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>The server is shutting down and takes no more submissions.</summary>
public sealed class SubmissionsClosedException() : InvalidOperationException("The server is shutting down and accepts no new runs.");
