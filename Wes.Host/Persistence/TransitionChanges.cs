namespace Wes.Persistence;

/// <summary>Columns written together with a state change. Null members are left as they are.</summary>
public sealed record TransitionChanges
{
    public int? ExitCode { get; init; }
    public string? OutputsJson { get; init; }
    public string? CmdJson { get; init; }
    public int? EnginePid { get; init; }

    /// <summary>The provider's durable handle on the started work (see Run.ProviderHandle).</summary>
    public string? ProviderHandle { get; init; }
    public string? ErrorMessage { get; init; }

    /// <summary>Appended to the run's system_logs, so every system error message stays visible.</summary>
    public string? SystemLog { get; init; }

    /// <summary>Drop the executor's lease: the run goes back to the queue or ends.</summary>
    public bool ReleaseLease { get; init; }

    /// <summary>The attempt ended through no fault of the run (a graceful hand-back), so it is not counted.</summary>
    public bool UncountAttempt { get; init; }

    /// <summary>For a retry back to QUEUED: no executor claims the run before this time (epoch ms).</summary>
    public long? NotBefore { get; init; }

    /// <summary>Only change the run while this executor still holds its lease (fencing).</summary>
    public string? RequireLeaseOwner { get; init; }

    /// <summary>
    /// Only change the run while its lease still has this expiry: a reconciler that judged the lease run out acts
    /// only if its owner has not renewed it since, so a slow but live executor never loses a run it is executing.
    /// </summary>
    public long? RequireLeaseExpiresAt { get; init; }

    public static TransitionChanges None { get; } = new();
}

public enum TransitionOutcome
{
    Changed,
    Conflict,
}
