using Wes.Runs;

namespace Wes.Persistence;

/// <summary>
/// The Idempotency-Key row a submission wants stored with its run (whose id the store fills in). Rows created before <paramref name="ValidFrom"/>
/// (epoch ms) have expired: they no longer hold their key and are removed as they are met.
/// </summary>
public sealed record SubmissionKeyClaim(SubmissionKey Row, long ValidFrom);

public enum InsertOutcome
{
    Inserted,

    /// <summary>The owner already has the most QUEUED runs allowed; nothing was written.</summary>
    QueueFull,

    /// <summary>A live row holds the key (an earlier submission, or one committed first); nothing was written.</summary>
    KeyTaken,
}
