using System.Collections.Concurrent;
using Wes.Runs;

namespace Wes.Execution;

/// <summary>One in-flight run's stop switch, shared by the worker, its heartbeat and the cancel endpoint.</summary>
// The token source has no timer or links, so it needs no disposal; that keeps Stop safe after unregistering.
public sealed class RunStopSwitch
{
    private readonly CancellationTokenSource _source = new();
    private int _reason;

    public CancellationToken Token => _source.Token;
    public StopReason Reason => (StopReason)Volatile.Read(ref _reason);

    /// <summary>The first reason wins: a user's cancel is not rewritten as a shutdown.</summary>
    public void Stop(StopReason reason)
    {
        if (Interlocked.CompareExchange(ref _reason, (int)reason, (int)StopReason.None) == (int)StopReason.None)
        {
            _source.Cancel();
        }
    }
}

/// <summary>The runs this process is executing, by id, so a cancel request reaches the engine at once.</summary>
public sealed class RunCancellations
{
    private readonly ConcurrentDictionary<string, RunStopSwitch> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _detached = new(StringComparer.Ordinal);

    public RunStopSwitch Register(string runId) => _running[runId] = new RunStopSwitch();

    public void Unregister(string runId)
    {
        _running.TryRemove(runId, out _);
        _detached.TryRemove(runId, out _);
    }

    /// <summary>Unregisters the run only while <paramref name="stopSwitch"/> is still its switch.</summary>
    public void Unregister(string runId, RunStopSwitch stopSwitch)
    {
        if (_running.TryRemove(new KeyValuePair<string, RunStopSwitch>(runId, stopSwitch)))
        {
            _detached.TryRemove(runId, out _);
        }
    }

    /// <summary>The run's work goes on elsewhere and holds no worker (see <see cref="Providers.IDetachedProvider"/>).</summary>
    public void MarkDetached(string runId) => _detached[runId] = 0;

    public void Stop(string runId, StopReason reason)
    {
        if (_running.TryGetValue(runId, out var stopSwitch))
        {
            stopSwitch.Stop(reason);
        }
    }

    public void StopAll(StopReason reason)
    {
        foreach (var stopSwitch in _running.Values)
        {
            stopSwitch.Stop(reason);
        }
    }

    public int Count => _running.Count;

    /// <summary>How many of the runs are followed without a worker.</summary>
    public int DetachedCount => _detached.Count;
}
