using System.Net;
using System.Net.Sockets;

namespace Wes.Security;

/// <summary>
/// Judges the hosts of the input URLs an engine will fetch, when the run is submitted. The engine connects by itself,
/// so its connections cannot be checked one by one as the server's own are (see OutboundAddressPolicy): a host name is
/// refused here when any address it resolves to is one the fetch policy refuses, or when it does not resolve at all.
/// DNS may answer differently when the engine asks later; cutting the engine's network is the complete answer.
/// </summary>
public sealed class InputHostCheck(OutboundAddressPolicy policy, FetchOptions fetch)
{
    /// <summary>For every lookup of one request together: a resolver slower than this counts as no answer.</summary>
    public static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Different host names one request may make the server look up, so a request cannot become a DNS flood.</summary>
    public const int MaxNames = 32;

    private readonly FetchAllowEntry[] _allowed = [.. fetch.AllowedHostList.Select(FetchAllowList.Parse).OfType<FetchAllowEntry>()];

    public async Task<IReadOnlyList<string>> ProblemsAsync(IEnumerable<(string Where, Uri Url)> urls, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var lookups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (where, url) in urls)
        {
            var (problem, name) = Triage(where, url);
            if (problem is not null)
            {
                problems.Add(problem);
            }
            else if (name is not null)
            {
                if (!lookups.TryGetValue(name, out var places))
                {
                    lookups[name] = places = [];
                }

                places.Add(where);
            }
        }

        if (lookups.Count > MaxNames)
        {
            problems.Add($"workflow_params has URLs on {lookups.Count} different host names; at most {MaxNames} are checked " +
                "for one request. Serve the inputs from fewer hosts, or list them in WES_ALLOWED_FETCH_HOSTS.");
            return problems;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(LookupTimeout);
        var verdicts = await Task.WhenAll(lookups.Keys.Select(name => JudgeAsync(name, timeout.Token)));
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var (name, verdict) in lookups.Keys.Zip(verdicts))
        {
            if (verdict is not null)
            {
                problems.AddRange(lookups[name].Select(where => verdict(where)));
            }
        }

        return problems;
    }

    /// <summary>The problem found without asking DNS, else the name to look up; neither for an allowed address or name.</summary>
    private (string? Problem, string? Name) Triage(string where, Uri url)
    {
        if (url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
        {
            return (policy.LiteralHostRefusal(url) is { } literal ? FetchUrlRules.Refused(where, literal) : null, null);
        }

        // "LOCALHOST." and "localhost" are one name to a resolver.
        var name = url.IdnHost.TrimEnd('.').ToLowerInvariant();
        if (url.HostNameType is not (UriHostNameType.Dns or UriHostNameType.Basic) || name.Length == 0)
        {
            // What an engine would make of it cannot be told, and an empty name resolves to this host's own addresses.
            return ($"{where} is refused: '{url.Host}' is not a host name the server can check.", null);
        }

        if (IsAllowedName(name))
        {
            return (null, null);
        }

        // RFC 6761: these always mean this host, whatever a resolver says.
        return name == "localhost" || name.EndsWith(".localhost", StringComparison.Ordinal)
            ? (FetchUrlRules.Refused(where, $"'{name}' names this host itself"), null)
            : (null, name);
    }

    /// <summary>A name listed in WES_ALLOWED_FETCH_HOSTS (or under a listed "*.domain") is accepted without a lookup.</summary>
    private bool IsAllowedName(string name) =>
        _allowed.Any(entry =>
            (entry.Host is not null && string.Equals(name, entry.Host.TrimEnd('.'), StringComparison.OrdinalIgnoreCase)) ||
            (entry.Suffix is not null && name.EndsWith(entry.Suffix, StringComparison.OrdinalIgnoreCase)));

    /// <summary>Null when every address the name resolves to may be fetched from; else the problem, given where the URL is.</summary>
    private async Task<Func<string, string>?> JudgeAsync(string name, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        try
        {
            // WaitAsync as well: a resolver that ignores cancellation must not hold the request.
            addresses = await Dns.GetHostAddressesAsync(name, cancellationToken).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is SocketException or ArgumentException or OperationCanceledException)
        {
            addresses = [];
        }

        if (addresses.Length == 0)
        {
            var why = cancellationToken.IsCancellationRequested ? $"did not resolve within {LookupTimeout.TotalSeconds:0} s" : "could not be resolved";
            return where => $"{where} is refused: its host name '{name}' {why}, so where the engine would connect cannot be checked. " +
                "If the engine can reach it, list it in WES_ALLOWED_FETCH_HOSTS.";
        }

        var refusals = addresses.Select(address => policy.Refusal(name, address)).OfType<string>().Distinct().ToList();
        return refusals.Count == 0
            ? null
            : where => FetchUrlRules.Refused(where, $"'{name}' resolves to a refused address ({string.Join("; ", refusals)})");
    }
}
