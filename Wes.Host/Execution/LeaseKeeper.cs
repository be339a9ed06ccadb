using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Persistence;
using Wes.Runs;

namespace Wes.Execution;

/// <summary>
/// Renews the lease of every run this process executes, from one thread of its own. Nothing a workflow controls runs
/// on that thread — no log parsing, no file reading, no engine I/O — and it does not wait for the thread pool, so a
/// workflow cannot stop the renewal. It also fences: a run whose lease could not be renewed for most of its length
/// is stopped here, before the lease can run out and another executor start the run again beside this one.
/// </summary>
public sealed class LeaseKeeper : IDisposable
{
    private readonly ConcurrentDictionary<string, Holding> _held = new(StringComparer.Ordinal);
    private readonly RunStore _store;
    private readonly ExecutorIdentity _identity;
    private readonly TimeProvider _clock;
    private readonly ILogger<LeaseKeeper> _logger;
    private readonly TimeSpan _lease;
    private readonly TimeSpan _fenceAfter;
    private readonly ManualResetEventSlim _stopping = new();
    private readonly Lazy<Thread> _thread;

    public LeaseKeeper(RunStore store, ExecutorIdentity identity, IOptions<WesOptions> options, TimeProvider clock, ILogger<LeaseKeeper> logger)
    {
        _store = store;
        _identity = identity;
        _clock = clock;
        _logger = logger;
        _lease = TimeSpan.FromSeconds(options.Value.LeaseSeconds);
        Interval = TimeSpan.FromSeconds(Math.Min(2, options.Value.LeaseSeconds / 4));
        // Stopping an engine takes up to the kill grace; it must be gone before the lease can run out.
        _fenceAfter = TimeSpan.FromTicks(Math.Max(2 * Interval.Ticks, (_lease - Interval - TimeSpan.FromSeconds(options.Value.KillGraceSeconds)).Ticks));
        _thread = new Lazy<Thread>(() =>
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = "wes-lease-keeper" };
            // UnsafeStart: the thread serves every run, so it must not take the first run's logging scope along.
            thread.UnsafeStart();
            return thread;
        });
    }

    public TimeSpan Interval { get; }

    /// <summary>Whether a worker of this process is executing the run.</summary>
    public bool IsHeld(string runId) => _held.ContainsKey(runId);

    /// <summary>Keeps the lease of <paramref name="runId"/> until the returned hold is disposed.</summary>
    public IDisposable Hold(string runId, RunStopSwitch stopSwitch)
    {
        _ = _thread.Value;
        var holding = new Holding(runId, stopSwitch, _clock.GetUtcNow());
        _held[runId] = holding;
        return new Release(() => _held.TryRemove(new KeyValuePair<string, Holding>(runId, holding)));
    }

    public void Dispose()
    {
        _stopping.Set();
        if (_thread.IsValueCreated)
        {
            _thread.Value.Join(TimeSpan.FromSeconds(5));
        }
    }

    private void Loop()
    {
        while (!_stopping.Wait(Interval))
        {
            var held = _held.Values.ToList();
            if (held.Count > 0)
            {
                RenewOnce(held);
            }
        }
    }

    private void RenewOnce(List<Holding> held)
    {
        try
        {
            var states = _store.RenewLeases(_identity.Id, held.Select(h => h.RunId).ToList(), _lease, Interval * 2);
            var now = _clock.GetUtcNow();
            foreach (var holding in held)
            {
                if (!states.TryGetValue(holding.RunId, out var state))
                {
                    // Taken over, or settled by someone else: stop the engine and record nothing.
                    holding.StopSwitch.Stop(StopReason.LeaseLost);
                    continue;
                }

                holding.LastRenewed = now;
                if (state == RunState.Canceling)
                {
                    // Canceled through another process (or a missed in-process signal).
                    holding.StopSwitch.Stop(StopReason.CancelRequested);
                }
            }
        }
        catch (Exception ex)
        {
            // Whatever went wrong, the loop goes on: the next tick is the retry, and the fence below bounds the damage.
            _logger.LogWarning(ex, "Renewing the leases of {Count} run(s) failed", held.Count);
        }

        foreach (var holding in held.Where(h => _clock.GetUtcNow() - h.LastRenewed > _fenceAfter))
        {
            _logger.LogError("Run {RunId}: its lease could not be renewed for {Seconds:0} s; stopping its engine before another executor may take it",
                holding.RunId, (_clock.GetUtcNow() - holding.LastRenewed).TotalSeconds);
            holding.StopSwitch.Stop(StopReason.LeaseLost);
        }
    }

    private sealed class Holding(string runId, RunStopSwitch stopSwitch, DateTimeOffset since)
    {
        public string RunId { get; } = runId;
        public RunStopSwitch StopSwitch { get; } = stopSwitch;
        public DateTimeOffset LastRenewed { get; set; } = since;
    }

    private sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }
}
