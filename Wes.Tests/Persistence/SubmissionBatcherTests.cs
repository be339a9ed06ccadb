using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Persistence;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Persistence;

/// <summary>
/// Group commit on a real SQLite file. Every test queues its items on a batcher that has not started yet, so they are
/// all taken together and committed in one batch.
/// </summary>
public sealed class SubmissionBatcherTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 0);
    private readonly RunStore _store;
    private readonly SubmissionBatcher _batcher;

    public SubmissionBatcherTests()
    {
        _factory.CreateClient().Dispose(); // starts the host, which applies the migrations
        _store = _factory.Service<RunStore>();
        _batcher = new SubmissionBatcher(_store, _factory.Service<IOptions<WesOptions>>(), NullLogger<SubmissionBatcher>.Instance);
    }

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task OneFailingItem_DoesNotFailTheOthersOfItsBatch()
    {
        var existing = RunBuilder.Queued();
        Assert.True(await _store.InsertAsync(existing, "test", int.MaxValue, CancellationToken.None));
        var good = Enumerable.Range(0, 5).Select(_ => RunBuilder.Queued()).ToList();
        // A second row with a taken run id breaks the batch's transaction on the unique index.
        var pending = good.Take(2).Append(RunBuilder.Queued(existing.RunId)).Concat(good.Skip(2))
            .Select(run => _batcher.InsertAsync(new RunInsert(run, "test", int.MaxValue), hasFiles: false, CancellationToken.None))
            .ToList();

        await _batcher.StartAsync(CancellationToken.None);

        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => pending[2]);
        foreach (var (run, outcome) in good.Zip(pending.Take(2).Concat(pending.Skip(3))))
        {
            Assert.Equal(InsertOutcome.Inserted, await outcome);
            Assert.Equal(RunState.Queued, await _store.GetStateAsync(run.RunId, CancellationToken.None));
        }

        Assert.Equal(6, (await _store.CountByStateAsync(CancellationToken.None))[RunState.Queued]);
    }

    [Fact]
    public async Task ItemsOfOneBatch_CountTowardsTheOwnersLimit()
    {
        var outcomes = Enumerable.Range(0, 7)
            .Select(i => _batcher.InsertAsync(new RunInsert(Owned(i % 2 == 0 ? "alice" : "bob"), "test", MaxQueued: 2), false, CancellationToken.None))
            .ToList();

        await _batcher.StartAsync(CancellationToken.None);

        var results = await Task.WhenAll(outcomes);
        Assert.Equal(4, results.Count(r => r == InsertOutcome.Inserted));
        Assert.Equal(3, results.Count(r => r == InsertOutcome.QueueFull));
        Assert.Equal(2, await _store.CountQueuedAsync("alice", CancellationToken.None));
        Assert.Equal(2, await _store.CountQueuedAsync("bob", CancellationToken.None));
    }

    [Fact]
    public async Task TwoItemsOfOneBatch_WithOneKey_TheSecondFindsTheKeyTaken()
    {
        var first = RunBuilder.Queued();
        var outcomes = new[] { first, RunBuilder.Queued() }
            .Select(run => _batcher.InsertAsync(new RunInsert(run, "test", int.MaxValue, Claim("same-key")), false, CancellationToken.None))
            .ToList();

        await _batcher.StartAsync(CancellationToken.None);

        Assert.Equal([InsertOutcome.Inserted, InsertOutcome.KeyTaken], await Task.WhenAll(outcomes));
        var stored = await _store.FindSubmissionKeyAsync("scope", "same-key", 0, CancellationToken.None);
        Assert.Equal(first.RunId, stored?.RunId);
        Assert.Equal(1, (await _store.CountByStateAsync(CancellationToken.None))[RunState.Queued]);
    }

    [Fact]
    public async Task Stopping_CommitsWhatWasQueued_AndRefusesWhatComesAfter()
    {
        var runs = Enumerable.Range(0, 20).Select(_ => RunBuilder.Queued()).ToList();
        var outcomes = runs.Select(run => _batcher.InsertAsync(new RunInsert(run, "test", int.MaxValue), false, CancellationToken.None)).ToList();

        await _batcher.StartAsync(CancellationToken.None);
        await _batcher.StopAsync(CancellationToken.None);

        Assert.All(await Task.WhenAll(outcomes), outcome => Assert.Equal(InsertOutcome.Inserted, outcome));
        Assert.Equal(runs.Count, (await _store.CountByStateAsync(CancellationToken.None))[RunState.Queued]);
        await Assert.ThrowsAsync<SubmissionsClosedException>(() =>
            _batcher.InsertAsync(new RunInsert(RunBuilder.Queued(), "test", int.MaxValue), false, CancellationToken.None));
    }

    [Fact]
    public async Task AnItemWhoseRequestWasCancelledBeforeItsBatch_IsNotStored()
    {
        using var cancelled = new CancellationTokenSource();
        var run = RunBuilder.Queued();
        var outcome = _batcher.InsertAsync(new RunInsert(run, "test", int.MaxValue), false, cancelled.Token);
        await cancelled.CancelAsync();

        await _batcher.StartAsync(CancellationToken.None);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => outcome);
        Assert.Null(await _store.GetStateAsync(run.RunId, CancellationToken.None));
    }

    private static Run Owned(string owner)
    {
        var run = RunBuilder.Queued();
        run.Owner = owner;
        return run;
    }

    private static SubmissionKeyClaim Claim(string key) => new(new SubmissionKey
    {
        Scope = "scope", Key = key, RequestHash = "hash", CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
    }, ValidFrom: 0);
}
