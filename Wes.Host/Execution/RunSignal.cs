namespace Wes.Execution;

/// <summary>Wakes idle workers when a run is submitted in this process, so it starts without waiting for a poll.</summary>
public sealed class RunSignal
{
    private readonly SemaphoreSlim _pending = new(0);

    public void Notify() => _pending.Release();

    /// <summary>Waits for a submission or the poll interval, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan pollInterval, CancellationToken cancellationToken) =>
        await _pending.WaitAsync(pollInterval, cancellationToken);
}
