using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Observability;
using Wes.Persistence;
using Wes.Runs;

namespace Wes.Execution;

/// <summary>
/// Finds runs whose executor is gone (its lease ran out, or it was an earlier process on this host) and settles them:
/// CANCELING becomes CANCELED; INITIALIZING/RUNNING go back to QUEUED while attempts remain, else SYSTEM_ERROR.
/// Any engine process group the dead executor left on this host is killed first. A run whose work goes on elsewhere
/// (a detached provider's) is adopted instead: this executor takes its lease and follows the same work again.
/// </summary>
public sealed class Reconciler(
    RunStore store, RunExecutor executor, LeaseKeeper leases, ExecutorIdentity identity, WorkspaceJanitor janitor,
    IOptions<WesOptions> options, ILogger<Reconciler> logger)
{
    // Runs this executor cannot follow, each warned about once.
    private readonly HashSet<string> _leftAlone = new(StringComparer.Ordinal);

    public async Task<int> ReconcileAsync(CancellationToken cancellationToken)
    {
        var settled = 0;
        foreach (var run in await store.FindOrphanedAsync(identity.IsDeadLocalOwner, cancellationToken))
        {
            // A run of this process is left alone while a worker here still executes it; one that no worker holds any
            // more (its record failed, or it was fenced off) is settled like any other, or it would wait for a restart.
            if (run.LeaseOwner == identity.Id && leases.IsHeld(run.RunId))
            {
                continue;
            }

            if (executor.IsDetached(run))
            {
                // Work that goes on elsewhere is never started over: adopted where it can be followed, else left
                // for an executor that can (one with workers, the provider on and its tools found).
                if (options.Value.MaxConcurrentRuns > 0 && executor.CanResume(run))
                {
                    settled += await AdoptAsync(run, cancellationToken) ? 1 : 0;
                }
                else if (_leftAlone.Add(run.RunId))
                {
                    logger.LogWarning("Run {RunId}: its {Provider} work {Handle} has no executor following it, and this one cannot; it waits for one that can",
                        run.RunId, run.Provider, run.ProviderHandle);
                }

                continue;
            }

            var (to, message) = RunDecisions.AfterLostExecutor(run, options.Value.MaxAttempts);
            // Fenced on the lease as it was read: an owner that renewed it since is alive, and keeps its run.
            var changes = new TransitionChanges
            {
                SystemLog = message, ReleaseLease = true, RequireLeaseOwner = run.LeaseOwner, RequireLeaseExpiresAt = run.LeaseExpiresAt,
            };
            var outcome = await store.TransitionAsync(run.RunId, run.RunState, to, changes, identity.Id, "reconciled: executor lost", cancellationToken);
            if (outcome == TransitionOutcome.Changed)
            {
                // Only once the run is settled: an owner that kept its lease keeps its engine too.
                if (LocalProcessHandle.Parse(run.ProviderHandle) is { } engine && engine.IsAlive() &&
                    run.LeaseOwner is { } owner && owner.StartsWith(identity.Host + ":", StringComparison.Ordinal))
                {
                    EngineProcess.KillOrphanedGroup(engine.Pid, run.RunId);
                }

                settled++;
                using (RunLogScope.Begin(logger, run, out var scope))
                {
                    scope.State = to;
                    logger.LogWarning("Run {RunId}: {Message}", run.RunId, message);
                }
            }
        }

        await janitor.SweepIfDueAsync(cancellationToken);
        return settled;
    }

    private async Task<bool> AdoptAsync(Run run, CancellationToken cancellationToken)
    {
        var note = $"Executor {identity.Id} follows this run's work ({run.ProviderHandle}) again; " +
            (run.LeaseOwner is null ? "its executor shut down." : $"executor {run.LeaseOwner} went away.");
        var adopted = await store.AdoptAsync(run, identity.Id, TimeSpan.FromSeconds(options.Value.LeaseSeconds), note, cancellationToken);
        if (adopted is null)
        {
            return false;
        }

        executor.Resume(adopted, cancellationToken);
        return true;
    }
}
