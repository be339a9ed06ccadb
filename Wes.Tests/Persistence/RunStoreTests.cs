using System.Collections.Concurrent;
using Wes.Persistence;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Persistence;

/// <summary>The store's guarantees, checked against each database it runs on.</summary>
public abstract class RunStoreContract : IDisposable
{
    private readonly WesApplicationFactory _factory;
    private readonly RunStore _store;

    protected RunStoreContract(string? connectionString)
    {
        _factory = new WesApplicationFactory(workers: 0,
            settings: connectionString is null ? null : new Dictionary<string, string?> { ["Wes:Database"] = connectionString });
        _factory.CreateClient().Dispose(); // starts the host, which applies the migrations
        _store = _factory.Service<RunStore>();
    }

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Store_UsesTheConfiguredDatabase() => Assert.Equal(ExpectedKind, _store.Kind);

    protected abstract DatabaseKind ExpectedKind { get; }

    [Fact]
    public async Task Transition_ChangesOnlyFromTheExpectedStateAndWritesHistory()
    {
        var run = RunBuilder.Queued();
        await _store.InsertAsync(run, "test", int.MaxValue, CancellationToken.None);

        var wrongFrom = await _store.TransitionAsync(run.RunId, RunState.Running, RunState.Complete, TransitionChanges.None, "test", "t", CancellationToken.None);
        var right = await _store.TransitionAsync(run.RunId, RunState.Queued, RunState.Canceled, TransitionChanges.None, "test", "t", CancellationToken.None);
        var again = await _store.TransitionAsync(run.RunId, RunState.Queued, RunState.Canceled, TransitionChanges.None, "test", "t", CancellationToken.None);

        Assert.Equal(TransitionOutcome.Conflict, wrongFrom);
        Assert.Equal(TransitionOutcome.Changed, right);
        Assert.Equal(TransitionOutcome.Conflict, again);
        var history = await _store.GetHistoryAsync(run.RunId, CancellationToken.None);
        Assert.Equal([(null, "QUEUED"), ("QUEUED", "CANCELED")], history.Select(h => (h.FromState, h.ToState)));
        var stored = await _store.GetAsync(run.RunId, CancellationToken.None);
        Assert.NotNull(stored!.EndedAt);
    }

    [Fact]
    public async Task Transitions_AnnounceEachStartSinceTheLastQueued_AndTheEndWithEngineAndFirstStart()
    {
        var run = RunBuilder.Queued();
        var started = new ConcurrentQueue<RunStarted>();
        var finished = new ConcurrentQueue<RunFinished>();
        var events = _factory.Service<RunEvents>();
        events.RunStarted += started.Enqueue;
        events.RunFinished += finished.Enqueue;
        var ct = CancellationToken.None;
        await _store.InsertAsync(run, "test", int.MaxValue, ct);

        var first = await _store.TryClaimNextAsync("executor-a", TimeSpan.FromMinutes(1), ct);
        await _store.TransitionAsync(run.RunId, RunState.Initializing, RunState.Running, TransitionChanges.None, "test", "t", ct);
        await _store.TransitionAsync(run.RunId, RunState.Running, RunState.Queued, TransitionChanges.None, "test", "retry", ct);
        await _store.TryClaimNextAsync("executor-a", TimeSpan.FromMinutes(1), ct);
        await _store.TransitionAsync(run.RunId, RunState.Initializing, RunState.Running, TransitionChanges.None, "test", "t", ct);
        await _store.TransitionAsync(run.RunId, RunState.Running, RunState.ExecutorError, TransitionChanges.None, "test", "t", ct);

        var history = await _store.GetHistoryAsync(run.RunId, ct);
        var queuedAt = history.Where(h => h.ToState == "QUEUED").Select(h => (long?)h.At).ToList();
        var runningAt = history.Where(h => h.ToState == "RUNNING").Select(h => h.At).ToList();
        var stored = await _store.GetAsync(run.RunId, ct);
        Assert.Equal([queuedAt[0], queuedAt[1]], started.Where(s => s.RunId == run.RunId).Select(s => s.QueuedAt));
        Assert.Equal(runningAt, started.Where(s => s.RunId == run.RunId).Select(s => s.StartedAt));
        var end = Assert.Single(finished, f => f.RunId == run.RunId);
        Assert.Equal((RunState.ExecutorError, "cwltool", first!.StartedAt, stored!.EndedAt!.Value), (end.State, end.Engine, end.StartedAt, end.EndedAt));
    }

    [Fact]
    public async Task Transition_NotInTheTableIsAProgrammingError()
    {
        var run = RunBuilder.Queued();
        await _store.InsertAsync(run, "test", int.MaxValue, CancellationToken.None);

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _store.TransitionAsync(run.RunId, RunState.Queued, RunState.Complete, TransitionChanges.None, "test", "t", CancellationToken.None));
        Assert.Equal(RunState.Queued, await _store.GetStateAsync(run.RunId, CancellationToken.None));
    }

    [Fact]
    public async Task Transition_IsFencedByTheLeaseOwner()
    {
        var run = RunBuilder.Queued();
        await _store.InsertAsync(run, "test", int.MaxValue, CancellationToken.None);
        var claimed = await _store.TryClaimNextAsync("owner-a", TimeSpan.FromMinutes(1), CancellationToken.None);

        var stranger = await _store.TransitionAsync(run.RunId, RunState.Initializing, RunState.Running,
            new TransitionChanges { RequireLeaseOwner = "owner-b" }, "owner-b", "t", CancellationToken.None);
        var owner = await _store.TransitionAsync(run.RunId, RunState.Initializing, RunState.Running,
            new TransitionChanges { RequireLeaseOwner = "owner-a" }, "owner-a", "t", CancellationToken.None);

        Assert.Equal(run.RunId, claimed!.RunId);
        Assert.Equal(1, claimed.Attempt);
        Assert.Equal(TransitionOutcome.Conflict, stranger);
        Assert.Equal(TransitionOutcome.Changed, owner);
    }

    [Fact]
    public async Task Tasks_AreRecordedOnlyByTheExecutorHoldingTheRun()
    {
        var run = RunBuilder.Queued();
        await _store.InsertAsync(run, "test", int.MaxValue, CancellationToken.None);
        await _store.TryClaimNextAsync("owner-a", TimeSpan.FromMinutes(1), CancellationToken.None);

        await _store.UpsertTasksAsync(run.RunId, "owner-b", [new RunTask { TaskId = "stale", Name = "from a lost executor" }], CancellationToken.None);
        await _store.UpsertTasksAsync(run.RunId, "owner-a", [new RunTask { TaskId = "step", Name = "step", ExitCode = 0 }], CancellationToken.None);
        await _store.UpsertTasksAsync(run.RunId, "owner-a", [new RunTask { TaskId = "step", Name = "step", EndTime = 5 }], CancellationToken.None);

        var tasks = await _store.ListTasksAsync(run.RunId, null, 10, CancellationToken.None);
        var step = Assert.Single(tasks);
        Assert.Equal("step", step.TaskId);
        Assert.Equal(0, step.ExitCode);
        Assert.Equal(5, step.EndTime);
    }

    [Fact]
    public async Task SystemLogs_AccumulateAcrossTransitions()
    {
        var run = RunBuilder.Queued();
        await _store.InsertAsync(run, "test", int.MaxValue, CancellationToken.None);
        await _store.TryClaimNextAsync("a", TimeSpan.FromMinutes(1), CancellationToken.None);
        await _store.TransitionAsync(run.RunId, RunState.Initializing, RunState.Queued, new TransitionChanges { SystemLog = "first" }, "a", "t", CancellationToken.None);
        await _store.TryClaimNextAsync("b", TimeSpan.FromMinutes(1), CancellationToken.None);
        await _store.TransitionAsync(run.RunId, RunState.Initializing, RunState.SystemError, new TransitionChanges { SystemLog = "second" }, "b", "t", CancellationToken.None);

        var stored = await _store.GetAsync(run.RunId, CancellationToken.None);

        Assert.Equal(["first", "second"], System.Text.Json.JsonSerializer.Deserialize<string[]>(stored!.SystemLogsJson)!);
        Assert.Equal(2, stored.Attempt);
        Assert.Null(stored.LeaseOwner);
    }

    [Fact]
    public async Task ConcurrentClaims_TakeEachRunExactlyOnce()
    {
        const int runs = 60;
        const int claimers = 8;
        for (var i = 0; i < runs; i++)
        {
            await _store.InsertAsync(RunBuilder.Queued(), "test", int.MaxValue, CancellationToken.None);
        }

        var claimed = new ConcurrentBag<(string Owner, string RunId)>();
        await Task.WhenAll(Enumerable.Range(0, claimers).Select(worker => Task.Run(async () =>
        {
            while (await _store.TryClaimNextAsync($"worker-{worker}", TimeSpan.FromMinutes(1), CancellationToken.None) is { } run)
            {
                claimed.Add(($"worker-{worker}", run.RunId));
            }
        })));

        Assert.Equal(runs, claimed.Count);
        Assert.Equal(runs, claimed.Select(c => c.RunId).Distinct().Count());
        var counts = await _store.CountByStateAsync(CancellationToken.None);
        Assert.Equal(runs, counts[RunState.Initializing]);
    }

    [Fact]
    public async Task ConcurrentSubmissions_NeverPassTheOwnersQueuedLimit()
    {
        const int limit = 3;
        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(() =>
            _store.InsertAsync(Owned("alice"), "test", limit, CancellationToken.None))));

        Assert.Equal(limit, results.Count(inserted => inserted));
        Assert.Equal(limit, await _store.CountQueuedAsync("alice", CancellationToken.None));
        Assert.True(await _store.InsertAsync(Owned("bob"), "test", limit, CancellationToken.None));
        Assert.True(await _store.InsertAsync(Owned(null), "test", limit, CancellationToken.None));
    }

    [Fact]
    public async Task List_FiltersByOwnerAndOwnershipIsReadBack()
    {
        var alice = Owned("alice");
        var bob = Owned("bob");
        var nobody = Owned(null);
        foreach (var run in new[] { alice, bob, nobody })
        {
            await _store.InsertAsync(run, "test", int.MaxValue, CancellationToken.None);
        }

        Assert.Equal([alice.RunId], (await _store.ListAsync(null, 10, "alice", CancellationToken.None)).Select(r => r.RunId));
        Assert.Equal(3, (await _store.ListAsync(null, 10, null, CancellationToken.None)).Count);
        Assert.Equal("bob", (await _store.GetOwnershipAsync(bob.RunId, CancellationToken.None))!.Owner);
        Assert.Null((await _store.GetOwnershipAsync(nobody.RunId, CancellationToken.None))!.Owner);
        Assert.Null(await _store.GetOwnershipAsync("no-such-run", CancellationToken.None));
    }

    [Fact]
    public async Task Import_WritesFinishedRunsAndTheirHistoryInOrderOverSeveralStatements()
    {
        // 1,001 runs: more than two full multi-row statements and a short last one.
        var runs = Enumerable.Range(0, 1001).Select(i => Finished(i % 2 == 0 ? "alice" : "bob", i % 3 == 0 ? RunState.ExecutorError : RunState.Complete)).ToList();
        var history = runs.SelectMany(run => new[]
        {
            new RunStateChange { RunId = run.RunId, ToState = "QUEUED", At = run.SubmittedAt, Actor = "alice", Reason = "submitted" },
            new RunStateChange { RunId = run.RunId, FromState = "RUNNING", ToState = run.State, At = run.EndedAt!.Value, Actor = "executor", Reason = "engine exited" },
        }).ToList();

        await _store.ImportAsync(runs, history, CancellationToken.None);

        var newestOfAlice = await _store.ListAsync(null, 3, "alice", CancellationToken.None);
        Assert.Equal([runs[1000].RunId, runs[998].RunId, runs[996].RunId], newestOfAlice.Select(r => r.RunId));
        var stored = await _store.GetAsync(runs[999].RunId, CancellationToken.None);
        Assert.Equal(("EXECUTOR_ERROR", "bob", 1, runs[999].EndedAt, """{"k":"v"}"""), (stored!.State, stored.Owner, stored.ExitCode, stored.EndedAt, stored.TagsJson));
        Assert.Null(stored.EngineVersion);
        var storedHistory = await _store.GetHistoryAsync(runs[999].RunId, CancellationToken.None);
        Assert.Equal([(null, "QUEUED", "submitted"), ("RUNNING", "EXECUTOR_ERROR", "engine exited")],
            storedHistory.Select(h => (h.FromState, h.ToState, h.Reason)));
        var counts = await _store.CountByStateAsync(CancellationToken.None);
        Assert.Equal((334, 667), (counts[RunState.ExecutorError], counts[RunState.Complete]));
    }

    private static Run Finished(string owner, RunState state)
    {
        var run = Owned(owner);
        run.State = state.ToWes();
        run.StartedAt = run.SubmittedAt + 5;
        run.EndedAt = run.UpdatedAt = run.SubmittedAt + 50;
        run.Attempt = 1;
        run.ExitCode = state == RunState.Complete ? 0 : 1;
        run.TagsJson = """{"k":"v"}""";
        return run;
    }

    private static Run Owned(string? owner)
    {
        var run = RunBuilder.Queued();
        run.Owner = owner;
        return run;
    }
}

public sealed class SqliteRunStoreTests() : RunStoreContract(null)
{
    protected override DatabaseKind ExpectedKind => DatabaseKind.Sqlite;
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresRunStoreTests(PostgresServer postgres) : RunStoreContract(postgres.CreateDatabase())
{
    protected override DatabaseKind ExpectedKind => DatabaseKind.PostgreSql;
}
