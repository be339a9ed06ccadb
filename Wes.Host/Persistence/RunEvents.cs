using Wes.Runs;

namespace Wes.Persistence;

/// <summary>
/// Committed changes that someone in this process may have to act on at once: a run became claimable, a cancel
/// was requested, runs were submitted, a run started or ended (its alerts, if any, are in the outbox now). The store raises them once the
/// transaction has committed; the executor pool, the webhook sender and the metrics, when this process has them, listen. Other
/// processes hear of the same changes through PostgreSQL notifications or their next poll, and count only the changes they committed themselves.
/// </summary>
public sealed class RunEvents
{
    public event Action<string>? RunQueued;
    public event Action<string>? CancelRequested;
    public event Action<int>? RunsSubmitted;
    public event Action<RunStarted>? RunStarted;
    public event Action<RunFinished>? RunFinished;

    internal void OnQueued(string runId) => RunQueued?.Invoke(runId);

    internal void OnCancelRequested(string runId) => CancelRequested?.Invoke(runId);

    internal void OnSubmitted(int count) => RunsSubmitted?.Invoke(count);

    internal void OnStarted(RunStarted started) => RunStarted?.Invoke(started);

    internal void OnFinished(RunFinished finished) => RunFinished?.Invoke(finished);
}

/// <summary>A run went INITIALIZING -> RUNNING at <paramref name="StartedAt"/>; it last became QUEUED at <paramref name="QueuedAt"/> (epoch ms).</summary>
public sealed record RunStarted(string RunId, string Engine, long? QueuedAt, long StartedAt);

/// <summary>A run reached terminal <paramref name="State"/> at <paramref name="EndedAt"/>; null <paramref name="StartedAt"/>: it never started.</summary>
public sealed record RunFinished(string RunId, RunState State, string Engine, long? StartedAt, long EndedAt);
