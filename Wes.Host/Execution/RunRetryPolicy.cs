using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Runs;

namespace Wes.Execution;

/// <summary>
/// Whether a failed attempt is tried again, and after how long. A retry is a state change back to QUEUED with a
/// not-before time, never an in-memory loop: the attempt may run on any executor, after any restart.
/// </summary>
public sealed class RunRetryPolicy(IOptions<WesOptions> options)
{
    /// <summary>Tag with which a run opts in to retries of EXECUTOR_ERROR (a failing workflow is usually not transient).</summary>
    public const string ExecutorErrorTag = "wes.retry.executor_error";

    /// <summary>The back-off before the next attempt, or null when the run should end in <paramref name="outcome"/>.</summary>
    public TimeSpan? NextDelay(Run run, RunState outcome)
    {
        var settings = options.Value;
        return RunDecisions.RetryDelay(run.Attempt, settings.MaxAttempts, Retries(run, outcome),
            settings.Retry.BaseDelaySeconds, settings.Retry.MaxDelaySeconds, Random.Shared.NextDouble());
    }

    private bool Retries(Run run, RunState outcome)
    {
        if (options.Value.Retry.EffectiveOn.Contains(outcome.ToWes(), StringComparer.Ordinal))
        {
            return true;
        }

        var tags = run.ReadTags();
        return outcome == RunState.ExecutorError &&
            tags.TryGetValue(ExecutorErrorTag, out var optIn) && optIn.Equals("true", StringComparison.OrdinalIgnoreCase);
    }
}
