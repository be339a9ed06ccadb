using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Security;

/// <summary>A fetch the server refused because of where it would connect.</summary>
public sealed class FetchRefusedException(string message) : Exception(message);

/// <summary>One entry of WES_ALLOWED_FETCH_HOSTS: a host name, a "*.domain" suffix, or an address range.</summary>
public sealed record FetchAllowEntry(string? Host, string? Suffix, IPNetwork? Network)
{
    public bool Matches(string host, IPAddress address) =>
        (Host is not null && string.Equals(host, Host, StringComparison.OrdinalIgnoreCase)) ||
        (Suffix is not null && host.EndsWith(Suffix, StringComparison.OrdinalIgnoreCase)) ||
        (Network is { } network && (network.Contains(address) || (SpecialAddresses.EmbeddedIPv4(address) is { } v4 && network.Contains(v4))));
}

public static class FetchAllowList
{
    public static FetchAllowEntry? Parse(string entry)
    {
        if (IPNetwork.TryParse(entry, out var network))
        {
            return new FetchAllowEntry(null, null, network);
        }

        if (IPAddress.TryParse(entry.Trim('[', ']'), out var address))
        {
            return new FetchAllowEntry(null, null, new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
        }

        if (entry.StartsWith("*.", StringComparison.Ordinal) && Uri.CheckHostName(entry[2..]) == UriHostNameType.Dns)
        {
            return new FetchAllowEntry(null, entry[1..], null);
        }

        return Uri.CheckHostName(entry) == UriHostNameType.Dns ? new FetchAllowEntry(entry, null, null) : null;
    }
}

/// <summary>
/// Decides which addresses the server may connect to when it fetches a URL a user gave it (SSRF protection), and
/// connects only to an address it has checked. As the HTTP handler's connect step it sees every connection,
/// including those after a redirect, and the address it checks is the one it connects to, so a DNS answer that
/// changes between check and use (rebinding) cannot slip through.
/// </summary>
public sealed class OutboundAddressPolicy(IOptions<WesOptions> options)
{
    private readonly FetchOptions _fetch = options.Value.Fetch;
    private readonly FetchAllowEntry[] _allowed = [.. options.Value.Fetch.AllowedHostList.Select(FetchAllowList.Parse).OfType<FetchAllowEntry>()];

    /// <summary>Why the server must not connect to <paramref name="address"/> (which <paramref name="host"/> named), or null.</summary>
    public string? Refusal(string host, IPAddress address)
    {
        if (_allowed.Any(entry => entry.Matches(host, address)))
        {
            return null;
        }

        var (kind, description) = SpecialAddresses.Classify(address);
        return kind == AddressKind.Public || (kind == AddressKind.Private && _fetch.AllowPrivateNetworks) ? null : $"{address} is {description}";
    }

    /// <summary>For a submission: the refusal for a URL whose host is an address literal; names are checked when connecting.</summary>
    public string? LiteralHostRefusal(Uri url)
    {
        var host = url.IdnHost.Trim('[', ']');
        return url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 && IPAddress.TryParse(host, out var address)
            ? Refusal(host, address)
            : null;
    }

    /// <summary>SocketsHttpHandler.ConnectCallback: resolve, drop refused addresses, connect to the first allowed one that answers.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host.Trim('[', ']');
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var refusals = new List<string>();
        SocketException? failure = null;
        foreach (var address in addresses)
        {
            if (Refusal(host, address) is { } refusal)
            {
                refusals.Add(refusal);
                continue;
            }

            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                failure = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        if (failure is not null || refusals.Count == 0)
        {
            throw failure ?? new SocketException((int)SocketError.HostNotFound);
        }

        var why = literal is not null ? refusals[0] : $"{host} resolves only to addresses it may not reach ({string.Join("; ", refusals.Distinct())})";
        throw new FetchRefusedException($"{why}. The server fetches from public addresses only, unless WES_ALLOWED_FETCH_HOSTS allows more.");
    }
}
