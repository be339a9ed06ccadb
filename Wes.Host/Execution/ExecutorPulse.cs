namespace Wes.Execution;

/// <summary>When the executor pool's heartbeat loop last went round: readiness asks whether the pool is alive.</summary>
public sealed class ExecutorPulse(TimeProvider clock)
{
    private long _lastBeatTicks;

    /// <summary>The last beat, or null before the pool has started (it starts after the engine probe and reconciliation).</summary>
    public DateTimeOffset? LastBeatAt => Interlocked.Read(ref _lastBeatTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public void Beat() => Interlocked.Exchange(ref _lastBeatTicks, clock.GetUtcNow().UtcTicks);
}
