namespace Wes.Runs;

/// <summary>One workflow run as stored. Settable properties so both EF Core and Dapper can materialise it.</summary>
public sealed class Run
{
    public long Seq { get; set; }
    public string RunId { get; set; } = "";
    public string State { get; set; } = RunState.Queued.ToWes();
    public long SubmittedAt { get; set; }
    public long? StartedAt { get; set; }
    public long? EndedAt { get; set; }
    public long UpdatedAt { get; set; }
    public string Provider { get; set; } = "";

    /// <summary>The user who submitted the run; null when authentication was off (such runs are visible to admins only once it is on).</summary>
    public string? Owner { get; set; }
    public string WorkflowType { get; set; } = "";
    public string WorkflowTypeVersion { get; set; } = "";
    public string WorkflowUrl { get; set; } = "";
    public string Engine { get; set; } = "";
    public string? EngineVersion { get; set; }
    public int Attempt { get; set; }

    /// <summary>A retried run is not claimed before this time (epoch ms).</summary>
    public long? NotBefore { get; set; }
    public string? LeaseOwner { get; set; }
    public long? LeaseExpiresAt { get; set; }
    public int? EnginePid { get; set; }

    /// <summary>
    /// The provider's durable handle on the started work ("local:&lt;pid&gt;:&lt;start ticks&gt;" today; a batch job id or a
    /// remote run id for providers whose work runs elsewhere), so an executor can follow it again after a restart.
    /// </summary>
    public string? ProviderHandle { get; set; }
    public int? ExitCode { get; set; }
    public string? ErrorMessage { get; set; }
    public string? CmdJson { get; set; }
    public string? OutputsJson { get; set; }
    public string RequestJson { get; set; } = "{}";
    public string TagsJson { get; set; } = "{}";
    public string SystemLogsJson { get; set; } = "[]";

    /// <summary>When retention removed the run's files (epoch ms); null while they are kept.</summary>
    public long? FilesRemovedAt { get; set; }

    public RunState RunState => RunStateNames.ParseWes(State);

    /// <summary>The run's tags (stored as a JSON object of strings).</summary>
    public Dictionary<string, string> ReadTags() =>
        System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(TagsJson) ?? [];
}

/// <summary>A run's owner, read on its own for the access check of every run-scoped request.</summary>
public sealed record RunOwnership(string RunId, string? Owner);

/// <summary>One row of the append-only history of a run's state changes.</summary>
public sealed class RunStateChange
{
    public long Id { get; set; }
    public string RunId { get; set; } = "";
    public string? FromState { get; set; }
    public string ToState { get; set; } = "";
    public long At { get; set; }
    public string? Actor { get; set; }
    public string? Reason { get; set; }
}

/// <summary>One step of a run as the engine reported it (or the engine process itself).</summary>
public sealed class RunTask
{
    public long Id { get; set; }
    public string RunId { get; set; } = "";
    public string TaskId { get; set; } = "";
    public string Name { get; set; } = "";
    public string? CmdJson { get; set; }
    public long? StartTime { get; set; }
    public long? EndTime { get; set; }
    public int? ExitCode { get; set; }
    public string? SystemLogsJson { get; set; }
}

/// <summary>An executor process's heartbeat, so an API process can tell whether anyone is executing runs.</summary>
public sealed class ExecutorRecord
{
    public string Id { get; set; } = "";
    public string Host { get; set; } = "";
    public int Pid { get; set; }
    public int Workers { get; set; }
    public int Running { get; set; }
    public long StartedAt { get; set; }
    public long LastSeenAt { get; set; }
}

/// <summary>
/// A client's Idempotency-Key for one submission: a retried POST /runs with the same key (and the same request)
/// answers the run the first one created instead of creating another.
/// </summary>
public sealed class SubmissionKey
{
    /// <summary>The submitting user, or "" when authentication is off: keys are per user.</summary>
    public string Scope { get; set; } = "";
    public string Key { get; set; } = "";
    public string RunId { get; set; } = "";

    /// <summary>SHA-256 of the request as stored, so a key reused for a different request is told apart.</summary>
    public string RequestHash { get; set; } = "";
    public long CreatedAt { get; set; }
}

/// <summary>Server-wide values that must be shared by every process on the database (e.g. the page-token key).</summary>
public sealed class ServerSetting
{
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";
}
