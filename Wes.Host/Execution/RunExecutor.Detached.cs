using Wes.Execution.Engines;
using Wes.Observability;
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
    /// false when its provider is not a detached one this server has, so the run must be settled another way.
    /// </summary>
    public bool TryResume(Run run, CancellationToken stopping)
    {
        if (!CanResume(run))
        {
            return false;
        }

        var provider = (IDetachedProvider)_providers[run.Provider];
        var engine = EngineOf(run, provider);
        var workspace = new RunWorkspace(options.Value.RunsDir, run.RunId);
        var request = new ExecutionRequest(run, workspace, engine!, engine is null ? new Dictionary<string, string>() : EngineParameterNames.FromRequest(run.RequestJson, engine));
        var stopSwitch = cancellations.Register(run.RunId);
        var hold = leases.Hold(run.RunId, stopSwitch);
        if (run.RunState == RunState.Canceling)
        {
            // Canceled while nobody followed it: the cancel reaches the work as soon as it is followed again.
            stopSwitch.Stop(StopReason.CancelRequested);
        }

        logger.LogInformation("Run {RunId}: following its {Provider} work {Handle} again", run.RunId, provider.Name, run.ProviderHandle);
        FollowInBackground(run, request, provider, run.ProviderHandle!, run.CmdJson, stopSwitch, hold, stopping);
        return true;
    }

    /// <summary>Whether this executor can follow the run's started work again instead of starting it over.</summary>
    public bool CanResume(Run run) =>
        run.ProviderHandle is not null && run.RunState is RunState.Running or RunState.Canceling &&
        _providers.TryGetValue(run.Provider, out var provider) && provider is IDetachedProvider;

    /// <summary>Waits until every background follow has let go of its run (they stop when the host stops).</summary>
    public Task LeaveDetachedAsync() => Task.WhenAll(_detached.Values);

    private void FollowInBackground(
        Run run, ExecutionRequest request, IDetachedProvider provider, string handle, string? commandJson,
        RunStopSwitch stopSwitch, IDisposable hold, CancellationToken stopping)
    {
        var following = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cancellations.MarkDetached(run.RunId);
        _detached[run.RunId] = following.Task;
        _ = Task.Run(async () =>
        {
            try
            {
                await FollowDetachedAsync(run, request, provider, handle, commandJson, stopSwitch, stopping);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Nothing is recorded: the lease runs out and the run is adopted again by the reconciler.
                logger.LogError(ex, "Run {RunId}: following its {Provider} work failed", run.RunId, provider.Name);
            }
            finally
            {
                hold.Dispose();
                cancellations.Unregister(run.RunId);
                _detached.TryRemove(new KeyValuePair<string, Task>(run.RunId, following.Task));
                following.SetResult();
            }
        }, CancellationToken.None);
    }

    private async Task FollowDetachedAsync(
        Run run, ExecutionRequest request, IDetachedProvider provider, string handle, string? commandJson,
        RunStopSwitch stopSwitch, CancellationToken stopping)
    {
        using var logScope = RunLogScope.Begin(logger, run, out var scope);
        scope.State = RunState.Running;
        using var cancel = new CancellationTokenSource();
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        // Only a user's cancel reaches the work; a lost lease or a shutdown only ends the following here.
        using var onStop = stopSwitch.Token.Register(() => (stopSwitch.Reason == StopReason.CancelRequested ? cancel : leave).Cancel());
        ExecutionResult result;
        try
        {
            result = await FollowAsync(request, provider, () => provider.FollowAsync(request, handle, cancel.Token, leave.Token), cancel.Token, leave.Token);
        }
        catch (OperationCanceledException) when (leave.IsCancellationRequested)
        {
            await LeaveAsync(run, provider, stopSwitch.Reason);
            return;
        }

        // Running, also when it was canceled meanwhile: the record then finds CANCELING and ends the run CANCELED.
        await RecordEndAsync(run, request, provider, RunState.Running, result, commandJson, stopSwitch, scope, stopping);
    }

    private async Task LeaveAsync(Run run, IDetachedProvider provider, StopReason reason)
    {
        if (reason == StopReason.LeaseLost)
        {
            logger.LogWarning("Run {RunId}: lease lost; its {Provider} work is left to the executor that holds the run now", run.RunId, provider.Name);
            return;
        }

        // Shutting down: the work goes on; without our lease the next executor's reconciler adopts it at once.
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
