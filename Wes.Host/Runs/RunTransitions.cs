namespace Wes.Runs;

/// <summary>
/// The one table of allowed state changes. Every store update is conditional on the "from" state,
/// so a change that is not listed here can never happen, whichever process races for it.
/// </summary>
public static class RunTransitions
{
    private static readonly Dictionary<RunState, RunState[]> Allowed = new()
    {
        [RunState.Queued] = [RunState.Initializing, RunState.Canceled, RunState.SystemError],
        // Back to QUEUED when the executor that owned the run died or shut down before the engine finished.
        [RunState.Initializing] =
            [RunState.Running, RunState.Canceling, RunState.SystemError, RunState.Queued],
        [RunState.Running] =
        [
            RunState.Complete, RunState.ExecutorError, RunState.SystemError,
            RunState.Canceling, RunState.Queued, RunState.Preempted,
        ],
        [RunState.Canceling] = [RunState.Canceled],
    };

    public static IReadOnlySet<RunState> Terminal { get; } = new HashSet<RunState>
    {
        RunState.Complete, RunState.ExecutorError, RunState.SystemError, RunState.Canceled, RunState.Preempted,
    };

    /// <summary>States in which an executor holds the run and a lease guards it.</summary>
    public static IReadOnlySet<RunState> Active { get; } = new HashSet<RunState>
    {
        RunState.Initializing, RunState.Running, RunState.Canceling,
    };

    public static bool IsAllowed(RunState from, RunState to) =>
        Allowed.TryGetValue(from, out var targets) && targets.Contains(to);

    public static bool IsTerminal(this RunState state) => Terminal.Contains(state);

    public static IEnumerable<(RunState From, RunState To)> All() =>
        Allowed.SelectMany(pair => pair.Value.Select(to => (pair.Key, to)));
}
