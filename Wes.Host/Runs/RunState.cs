namespace Wes.Runs;

/// <summary>The eleven WES 1.1 run states.</summary>
public enum RunState
{
    Unknown,
    Queued,
    Initializing,
    Running,
    Paused,
    Complete,
    ExecutorError,
    SystemError,
    Canceled,
    Canceling,
    Preempted,
}

public static class RunStateNames
{
    private static readonly Dictionary<RunState, string> Names = new()
    {
        [RunState.Unknown] = "UNKNOWN",
        [RunState.Queued] = "QUEUED",
        [RunState.Initializing] = "INITIALIZING",
        [RunState.Running] = "RUNNING",
        [RunState.Paused] = "PAUSED",
        [RunState.Complete] = "COMPLETE",
        [RunState.ExecutorError] = "EXECUTOR_ERROR",
        [RunState.SystemError] = "SYSTEM_ERROR",
        [RunState.Canceled] = "CANCELED",
        [RunState.Canceling] = "CANCELING",
        [RunState.Preempted] = "PREEMPTED",
    };

    private static readonly Dictionary<string, RunState> ByName =
        Names.ToDictionary(pair => pair.Value, pair => pair.Key, StringComparer.Ordinal);

    public static IReadOnlyCollection<RunState> All { get; } = Names.Keys.ToArray();

    /// <summary>The spelling the WES spec uses, which is also the spelling stored in the database.</summary>
    public static string ToWes(this RunState state) => Names[state];

    public static RunState ParseWes(string name) =>
        ByName.TryGetValue(name, out var state) ? state : RunState.Unknown;
}
