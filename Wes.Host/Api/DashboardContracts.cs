namespace Wes.Api;

// Extension shapes behind the dashboard; any client may call them. Names become snake_case like the WES shapes.

/// <summary>A run as the runs list shows it: the WES summary plus what the request named and when it was submitted.</summary>
public sealed record RunOverview(
    string RunId, string State, string WorkflowType, string WorkflowTypeVersion, string WorkflowUrl, string Engine,
    string SubmittedTime, string? StartTime, string? EndTime, IReadOnlyDictionary<string, string> Tags);

public sealed record RunOverviewPage(IReadOnlyList<RunOverview> Runs, string NextPageToken);

/// <summary>One row of a run's state history; times carry milliseconds so short steps keep their length.</summary>
public sealed record StateChangeEntry(string? FromState, string ToState, string Time, string? Actor, string? Reason);

/// <summary>A run's state history with the facts about its executions that RunLog does not carry.</summary>
public sealed record RunHistory(
    string RunId, string State, int Attempt, int EarlierExecutions, string Provider, string Engine, string? EngineVersion,
    string SubmittedTime, IReadOnlyList<StateChangeEntry> Transitions);

/// <summary>Runs that ended within one hour (its start, UTC), counted by final state.</summary>
public sealed record FinishedHour(string Hour, IReadOnlyDictionary<string, long> Counts);

public sealed record FinishedPerHour(int Hours, IReadOnlyList<FinishedHour> Buckets);
