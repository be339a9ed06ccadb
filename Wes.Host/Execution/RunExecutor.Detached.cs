using Wes.Observability;
using Wes.Persistence;
using Wes.Providers;
using Wes.Runs;

namespace Wes.Execution;

/// <summary>
/// Runs whose work goes on elsewhere (<see cref="IDetachedProvider"/>): followed in the background, without a worker,
/// until the work ends, a user cancels, or this process stops following (shutdown, lost lease) and leaves the work to
/// the executor that adopts the run next.
/// </summary>
public sealed partial class RunExecutor
{
    /// <summary>
    /// Follows again a started run this executor has just adopted (see <see cref="Persistence.RunStore.AdoptAsync"/>);
    /// the caller has found that it <see cref="CanResume"/>.
    /// </summary>
    public void Resume(Run run, CancellationToken stopping)
    {
        var provider = (IDetachedProvider)_providers[run.Provider];
        var request = RequestFor(run, new RunWorkspace(options.Value.RunsDir, run.RunId), EngineOf(run, provider)!);
        var stopSwitch = cancellations.Register(run.RunId);
        var hold = leases.Hold(run.RunId, stopSwitch);
        if (run.RunState == RunState.Canceling)
        {
            // Canceled while nobody followed it: the cancel reaches the work as soon as it is followed again.
            stopSwitch.Stop(StopReason.CancelRequested);
        }

        logger.LogInformation("Run {RunId}: following its {Provider} work {Handle} again", run.RunId, provider.Name, run.ProviderHandle);
        // Adopted while CANCELING: whether the work had begun is not known; RUNNING lets any end be recorded.
        var state = run.RunState == RunState.Initializing ? RunState.Initializing : RunState.Running;
        FollowInBackground(run, request, provider, run.ProviderHandle!, run.CmdJson, state, stopSwitch, hold, stopping);
    }

    /// <summary>
    /// Whether this executor can follow the run's started work again instead of starting it over: the work has a
    /// recorded handle, its provider is a detached one that can follow here, and the run's engine is known here.
    /// </summary>
    public bool CanResume(Run run) =>
        run.ProviderHandle is not null && run.RunState is RunState.Initializing or RunState.Running or RunState.Canceling &&
        _providers.TryGetValue(run.Provider, out var provider) && provider is IDetachedProvider { CanFollow: true } &&
        EngineOf(run, provider) is not null;

    /// <summary>
    /// Whether the run's work goes on elsewhere under a provider this server has: such a run is never started over
    /// by reconciliation, only adopted by an executor that can follow it.
    /// </summary>
    public bool IsDetached(Run run) =>
        run.ProviderHandle is not null && _providers.TryGetValue(run.Provider, out var provider) && provider is IDetachedProvider;

    /// <summary>Waits until every background follow has let go of its run (they stop when the host stops).</summary>
    public Task LeaveDetachedAsync() => Task.WhenAll(_detached.Values);

    private void FollowInBackground(
        Run run, ExecutionRequest request, IDetachedProvider provider, string handle, string? commandJson, RunState state,
        RunStopSwitch stopSwitch, IDisposable hold, CancellationToken stopping)
    {
        var following = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stopSwitch.Detached = true;
        _detached[run.RunId] = following.Task;
        _ = Task.Run(async () =>
        {
            try
            {
                await FollowDetachedAsync(run, request, provider, handle, commandJson, state, stopSwitch, stopping);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Nothing is recorded: the lease runs out and the run is adopted again by the reconciler.
                logger.LogError(ex, "Run {RunId}: following its {Provider} work failed", run.RunId, provider.Name);
            }
            finally
            {
                cancellations.Unregister(run.RunId, stopSwitch);
                hold.Dispose();
                _detached.TryRemove(new KeyValuePair<string, Task>(run.RunId, following.Task));
                following.SetResult();
            }
        }, CancellationToken.None);
    }

    private async Task FollowDetachedAsync(
        Run run, ExecutionRequest request, IDetachedProvider provider, string handle, string? commandJson, RunState state,
        RunStopSwitch stopSwitch, CancellationToken stopping)
    {
        using var logScope = RunLogScope.Begin(logger, run, out var scope);
        scope.State = state;
        var started = new StartMark(state);
        request = request with { OnRunning = ct => MarkRunningAsync(run, started, scope, ct) };
        using var cancel = new CancellationTokenSource();
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        // Only a user's cancel reaches the work; a lost lease or a shutdown only ends the following here.
        using var onStop = stopSwitch.Token.Register(() => (stopSwitch.Reason == StopReason.CancelRequested ? cancel : leave).Cancel());
        ExecutionResult result;
        try
        {
            result = await WithProgressAsync(request, provider, () => provider.FollowAsync(request, handle, cancel.Token, leave.Token));
        }
        catch (OperationCanceledException) when (leave.IsCancellationRequested)
        {
            await LeaveAsync(run, provider, giveUpLease: stopSwitch.Reason != StopReason.LeaseLost);
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The work may well be running still: record nothing, and let the run be adopted and followed again.
            logger.LogError(ex, "Run {RunId}: following its {Provider} work {Handle} failed; it is followed again", run.RunId, provider.Name, handle);
            await LeaveAsync(run, provider, giveUpLease: true);
            return;
        }

        if (result.Outcome is ExecutionOutcome.Succeeded or ExecutionOutcome.Failed)
        {
            // Work that ended before it was seen running did run: its end is recorded from RUNNING.
            await MarkRunningAsync(run, started, scope, stopping);
        }

        // A cancel meanwhile is found by the record, which then ends the run CANCELED.
        await RecordEndAsync(run, request, provider, started.State, result, commandJson, stopSwitch, scope, stopping);
    }

    /// <summary>INITIALIZING -> RUNNING once the work really runs; later calls, and calls after a conflict, do nothing.</summary>
    private async Task MarkRunningAsync(Run run, StartMark started, RunLogScope scope, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref started.Marked, 1) == 1)
        {
            return;
        }

        var outcome = await DurablyAsync(run.RunId, "record the start", ct =>
            WriteAsync(run.RunId, RunState.Initializing, RunState.Running, TransitionChanges.None, "work started", ct), cancellationToken);
        if (outcome == TransitionOutcome.Changed)
        {
            started.State = scope.State = RunState.Running;
        }
    }

    /// <summary>Where a followed run stands: INITIALIZING until its work is seen running.</summary>
    private sealed class StartMark(RunState state)
    {
        public int Marked = state == RunState.Initializing ? 0 : 1;

        public RunState State { get; set; } = state;
    }

    /// <param name="giveUpLease">False when the lease is lost already: the run is someone else's now.</param>
    private async Task LeaveAsync(Run run, IDetachedProvider provider, bool giveUpLease)
    {
        if (!giveUpLease)
        {
            logger.LogWarning("Run {RunId}: lease lost; its {Provider} work is left to the executor that holds the run now", run.RunId, provider.Name);
            return;
        }

        // The work goes on; without our lease the next executor's reconciler adopts it at once.
        try
        {
            await store.ReleaseLeaseAsync(run.RunId, identity.Id, CancellationToken.None);
            logger.LogInformation("Run {RunId}: no longer followed here; its {Provider} work goes on and is followed again by the next executor", run.RunId, provider.Name);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or TimeoutException)
        {
            logger.LogWarning(ex, "Run {RunId}: could not give up its lease; it is adopted once the lease runs out", run.RunId);
        }
    }
}
