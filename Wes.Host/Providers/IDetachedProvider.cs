namespace Wes.Providers;

/// <summary>
/// A provider whose work runs elsewhere and goes on without this process: a job on a batch scheduler, a run on a
/// remote WES server. The executor prepares and starts such work on a worker like any other, records the handle, and
/// then frees the worker (the run stays INITIALIZING until the provider calls
/// <see cref="ExecutionRequest.MarkRunningAsync"/>): the run is followed in the background, so waiting runs do not count against
/// WES_MAX_CONCURRENT_RUNS. The follow should therefore wait on a poller shared by all of the provider's runs, not on
/// a thread of its own.
/// </summary>
/// <remarks>
/// When this process shuts down or loses a run's lease it stops following (the <c>leave</c> token) and leaves the work
/// running; whichever executor holds the lease next follows it again by its recorded handle, without prepare or start.
/// A handle the other side no longer knows ends the follow with a <c>SystemError</c> whose message names what was
/// asked and what came back. The three-argument <see cref="IExecutionProvider.FollowAsync"/> is the four-argument one
/// with nothing to leave on.
/// </remarks>
public interface IDetachedProvider : IExecutionProvider
{
    /// <summary>
    /// Whether this process can follow such work at all (the provider is on here and its tools are found). An
    /// executor that cannot never adopts the provider's runs; it leaves them to one that can.
    /// </summary>
    bool CanFollow => true;

    /// <summary>
    /// Follows the work <paramref name="handle"/> names until it ends. <paramref name="cancel"/> is a user's cancel:
    /// cancel the work where it runs and answer <see cref="Runs.ExecutionOutcome.Stopped"/> once it is gone there.
    /// <paramref name="leave"/> means this process stops following: throw <see cref="OperationCanceledException"/>
    /// promptly and leave the work as it is.
    /// </summary>
    Task<ExecutionResult> FollowAsync(ExecutionRequest request, string handle, CancellationToken cancel, CancellationToken leave);

    Task<ExecutionResult> IExecutionProvider.FollowAsync(ExecutionRequest request, string handle, CancellationToken stop) =>
        FollowAsync(request, handle, stop, CancellationToken.None);
}
