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

    /// <summary>The run's work goes on elsewhere and holds no worker (see <see cref="Providers.IDetachedProvider"/>).</summary>
    public bool Detached { get; set; }
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

    public RunStopSwitch Register(string runId) => _running[runId] = new RunStopSwitch();

    /// <summary>Unregisters the run only while <paramref name="stopSwitch"/> is still its switch: a run adopted again meanwhile keeps its new one.</summary>
    public void Unregister(string runId, RunStopSwitch stopSwitch) =>
        _running.TryRemove(new KeyValuePair<string, RunStopSwitch>(runId, stopSwitch));

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
    public int DetachedCount => _running.Values.Count(s => s.Detached);
}
