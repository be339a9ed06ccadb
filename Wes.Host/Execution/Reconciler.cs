using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Persistence;
using Wes.Runs;

namespace Wes.Execution;

/// <summary>
/// Finds runs whose executor is gone (its lease ran out, or it was an earlier process on this host) and settles them:
/// CANCELING becomes CANCELED; INITIALIZING/RUNNING go back to QUEUED while attempts remain, else SYSTEM_ERROR.
/// Any engine process group the dead executor left on this host is killed first.
/// </summary>
public sealed class Reconciler(
    RunStore store, ExecutorIdentity identity, WorkspaceJanitor janitor, IOptions<WesOptions> options, ILogger<Reconciler> logger)
{
    public async Task<int> ReconcileAsync(CancellationToken cancellationToken)
    {
        var settled = 0;
        foreach (var run in await store.FindOrphanedAsync(identity.IsDeadLocalOwner, cancellationToken))
        {
            if (run.LeaseOwner == identity.Id)
            {
                continue;
            }

            if (run.EnginePid is { } pid && run.LeaseOwner is { } owner && owner.StartsWith(identity.Host + ":", StringComparison.Ordinal))
            {
                EngineProcess.KillOrphanedGroup(pid, run.RunId);
            }

            var (to, message) = Decide(run);
            var outcome = await store.TransitionAsync(run.RunId, run.RunState, to, new TransitionChanges { SystemLog = message, ReleaseLease = true },
                identity.Id, "reconciled: executor lost", cancellationToken);
            if (outcome == TransitionOutcome.Changed)
            {
                settled++;
                logger.LogWarning("Run {RunId}: {Message}", run.RunId, message);
            }
        }

        await janitor.SweepIfDueAsync(cancellationToken);
        return settled;
    }

    private (RunState To, string Message) Decide(Run run)
    {
        var lost = $"Attempt {run.Attempt}: executor {run.LeaseOwner ?? "(none)"} stopped while the run was {run.State}";
        if (run.RunState == RunState.Canceling)
        {
            return (RunState.Canceled, $"{lost}; the cancel is complete.");
        }

        return run.Attempt < options.Value.MaxAttempts
            ? (RunState.Queued, $"{lost}; re-queued (attempt {run.Attempt + 1} of {options.Value.MaxAttempts}).")
            : (RunState.SystemError, $"{lost}; all {options.Value.MaxAttempts} attempts used, giving up.");
    }
}
