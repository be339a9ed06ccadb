namespace Wes.Persistence;

/// <summary>
/// Committed changes that someone in this process may have to act on at once: a run became claimable, a cancel
/// was requested, or a run ended (its alerts, if any, are in the outbox now). The store raises them once the transaction has committed; the executor pool, when this process has one,
/// listens. Other processes hear of the same changes through PostgreSQL notifications or their next poll.
/// </summary>
public sealed class RunEvents
{
    public event Action<string>? RunQueued;
    public event Action<string>? CancelRequested;
    public event Action<string>? RunFinished;

    internal void OnQueued(string runId) => RunQueued?.Invoke(runId);

    internal void OnCancelRequested(string runId) => CancelRequested?.Invoke(runId);

    internal void OnFinished(string runId) => RunFinished?.Invoke(runId);
}
