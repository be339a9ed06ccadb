namespace Wes.Runs;

/// <summary>How one execution of a run ended, as its provider reports it.</summary>
public enum ExecutionOutcome
{
    Succeeded,
    Failed,
    SystemError,
    Stopped,
}

/// <summary>Why an executor stops an engine before it exits on its own.</summary>
public enum StopReason
{
    None,
    CancelRequested,
    LeaseLost,
    Shutdown,
}

/// <summary>What the executor does with a run whose execution ended: record a state, or queue it again after a delay.</summary>
public sealed record RunDecision(RunState To, string Reason, TimeSpan? RetryAfter = null, bool CountsAsAttempt = true, bool Record = true);

/// <summary>
/// Every "which state next" decision about a run, in one place and free of I/O: what a cancel does, what an engine's
/// exit means, whether a failure is retried, and what becomes of a run whose executor was lost. The store applies
/// the decisions with conditional updates; the transition table says which are possible at all.
/// </summary>
public static class RunDecisions
{
    /// <summary>
    /// Where a cancel takes a run: QUEUED ends CANCELED at once; INITIALIZING and RUNNING go to CANCELING and the
    /// executor stops the engine; anything else (already CANCELING, or ended) is left alone (null).
    /// </summary>
    public static RunState? CancelTarget(RunState current) => current switch
    {
        RunState.Queued => RunState.Canceled,
        RunState.Initializing or RunState.Running => RunState.Canceling,
        _ => null,
    };

    /// <summary>
    /// The state that records an execution's end. <paramref name="retryDelay"/> is asked only for failures, and
    /// answers the back-off before another attempt, or null when the run ends in the failure state.
    /// </summary>
    /// <param name="retryable">False when the provider says another attempt cannot help: the failure is then final.</param>
    public static RunDecision AfterExecution(
        ExecutionOutcome outcome, StopReason stopReason, int? exitCode, Func<RunState, TimeSpan?> retryDelay, bool retryable = true)
    {
        switch (outcome)
        {
            case ExecutionOutcome.Stopped when stopReason == StopReason.Shutdown:
                // The executor is going away, not the run: it goes back to the queue without using up an attempt.
                return new RunDecision(RunState.Queued, "executor shut down", CountsAsAttempt: false);
            case ExecutionOutcome.Stopped when stopReason == StopReason.LeaseLost:
                // Fenced: another executor may own the run now, so this one records nothing.
                return new RunDecision(RunState.Queued, "lease lost", Record: false);
            case ExecutionOutcome.Stopped:
                return new RunDecision(RunState.Canceled, "engine stopped after cancel");
            case ExecutionOutcome.Succeeded:
                return new RunDecision(RunState.Complete, "engine exited 0");
        }

        var failed = outcome == ExecutionOutcome.Failed ? RunState.ExecutorError : RunState.SystemError;
        var reason = outcome == ExecutionOutcome.Failed ? $"engine exited {exitCode}" : "system error";
        return retryable && retryDelay(failed) is { } delay
            ? new RunDecision(RunState.Queued, $"retry after {reason}", delay)
            : new RunDecision(failed, reason);
    }

    /// <summary>
    /// Whether a failed attempt gets another: only while attempts remain and the outcome is one that is retried.
    /// Exponential back-off with "equal jitter" (half the step fixed, half random), so retries spread out.
    /// </summary>
    /// <param name="random">A number in [0, 1).</param>
    public static TimeSpan? RetryDelay(int attempt, int maxAttempts, bool outcomeIsRetried, double baseDelaySeconds, double maxDelaySeconds, double random)
    {
        if (attempt >= maxAttempts || !outcomeIsRetried)
        {
            return null;
        }

        var step = Math.Min(maxDelaySeconds, baseDelaySeconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromSeconds(step / 2 + random * step / 2);
    }

    /// <summary>A run whose executor is gone: a cancel completes; otherwise it is queued again while attempts remain.</summary>
    public static (RunState To, string Message) AfterLostExecutor(Run run, int maxAttempts)
    {
        var lost = $"Attempt {run.Attempt}: executor {run.LeaseOwner ?? "(none)"} stopped while the run was {run.State}";
        if (run.RunState == RunState.Canceling)
        {
            return (RunState.Canceled, $"{lost}; the cancel is complete.");
        }

        return run.Attempt < maxAttempts
            ? (RunState.Queued, $"{lost}; re-queued (attempt {run.Attempt + 1} of {maxAttempts}).")
            : (RunState.SystemError, $"{lost}; all {maxAttempts} attempts used, giving up.");
    }
}
