using Wes.Runs;

namespace Wes.Tests.Runs;

public sealed class RunTransitionsTests
{
    public static TheoryData<RunState> TerminalStates() => [.. RunTransitions.Terminal];

    [Theory]
    [MemberData(nameof(TerminalStates))]
    public void TerminalState_HasNoWayOut(RunState terminal)
    {
        Assert.All(RunStateNames.All, to => Assert.False(RunTransitions.IsAllowed(terminal, to)));
    }

    [Fact]
    public void Table_HoldsExactlyTheDocumentedTransitions()
    {
        var expected = new HashSet<(RunState, RunState)>
        {
            (RunState.Queued, RunState.Initializing), (RunState.Queued, RunState.Canceled), (RunState.Queued, RunState.SystemError),
            (RunState.Initializing, RunState.Running), (RunState.Initializing, RunState.Canceling),
            (RunState.Initializing, RunState.SystemError), (RunState.Initializing, RunState.Queued),
            (RunState.Running, RunState.Complete), (RunState.Running, RunState.ExecutorError), (RunState.Running, RunState.SystemError),
            (RunState.Running, RunState.Canceling), (RunState.Running, RunState.Queued), (RunState.Running, RunState.Preempted),
            (RunState.Canceling, RunState.Canceled),
        };

        Assert.Equal(expected.OrderBy(t => t.ToString()), RunTransitions.All().OrderBy(t => t.ToString()));
    }

    [Fact]
    public void Canceled_IsOnlyReachedThroughACancel()
    {
        var into = RunTransitions.All().Where(t => t.To == RunState.Canceled).Select(t => t.From);

        Assert.Equal([RunState.Queued, RunState.Canceling], into.Order());
    }

    [Fact]
    public void StateNames_AreTheSpecSpellings()
    {
        Assert.Equal(
            Wes.Tests.Support.SpecContract.StateNames().Order(),
            RunStateNames.All.Select(s => s.ToWes()).Order());
        Assert.All(RunStateNames.All, s => Assert.Equal(s, RunStateNames.ParseWes(s.ToWes())));
    }
}
