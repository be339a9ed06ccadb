using System.Collections;
using Wes.Runs;

namespace Wes.Observability;

/// <summary>
/// The logging scope of everything logged about one run: RunId, State and Engine as separate fields (JSON console),
/// or one "RunId:… State:… Engine:…" prefix (simple console with scopes). The state follows the run while the scope is
/// open, so a line logged after the start says RUNNING.
/// </summary>
public sealed class RunLogScope(string runId, string engine, RunState state) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private volatile string _state = state.ToWes();

    public RunState State
    {
        get => RunStateNames.ParseWes(_state);
        set => _state = value.ToWes();
    }

    public int Count => 3;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("RunId", runId),
        1 => new("State", _state),
        2 => new("Engine", engine),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    /// <summary>Opens the scope on <paramref name="logger"/>; dispose it when the work on the run is done.</summary>
    public static IDisposable? Begin(ILogger logger, Run run, out RunLogScope scope)
    {
        scope = new RunLogScope(run.RunId, run.Engine, run.RunState);
        return logger.BeginScope(scope);
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"RunId:{runId} State:{_state} Engine:{engine}";
}
