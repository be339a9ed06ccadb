using Wes.Runs;
using Wes.Security;

namespace Wes.Api;

/// <summary>A page of runs, newest first, and the token of the next page ("" after the last).</summary>
internal sealed record RunPage(IReadOnlyList<Run> Runs, string NextPageToken);

/// <summary>
/// Keyset paging on seq shared by the run listings (GET /runs and the dashboard's search): a token bound to one
/// caller's listing, one extra row that tells whether another page follows, and the next token.
/// </summary>
internal static class RunPaging
{
    /// <summary>
    /// Reads at most <paramref name="limit"/> runs below <paramref name="beforeSeq"/>, only <paramref name="owner"/>'s
    /// when one is given; a bounded search that stopped short also answers the seq it stopped at.
    /// </summary>
    public delegate Task<(IReadOnlyList<Run> Rows, long? StoppedAt)> Fetch(long? beforeSeq, int limit, string? owner, CancellationToken cancellationToken);

    public static async Task<RunPage> ReadAsync(
        string listing, int size, string? pageToken, WesCaller caller, PageTokens tokens, Fetch fetch, CancellationToken cancellationToken)
    {
        var owner = caller.ListingOwner;
        // A token belongs to one user's listing, so it cannot be carried over to another's.
        var scope = owner is null ? listing : listing + ":" + owner;
        long? before = pageToken is { Length: > 0 } ? await tokens.ReadAsync(scope, pageToken, cancellationToken) : null;
        // One extra row tells whether another page exists without a second query.
        var (rows, stoppedAt) = await fetch(before, size + 1, owner, cancellationToken);
        var page = rows.Take(size).ToList();
        // A bounded search that stopped short hands back a token for where it stopped: the page may be short, even
        // empty, and still have a next one.
        var next = rows.Count > size ? await tokens.CreateAsync(scope, page[^1].Seq, cancellationToken)
            : stoppedAt is { } stopped ? await tokens.CreateAsync(scope, stopped, cancellationToken) : "";
        return new RunPage(page, next);
    }
}
