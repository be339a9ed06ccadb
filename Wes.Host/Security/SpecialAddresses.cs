using System.Net;

namespace Wes.Security;

public enum AddressKind
{
    Public,

    /// <summary>Private networks (RFC 1918, fc00::/7, CGNAT): reachable only with Wes:Fetch:AllowPrivateNetworks.</summary>
    Private,

    /// <summary>Loopback, link-local, metadata and other special addresses: reachable only when listed explicitly.</summary>
    Internal,
}

/// <summary>
/// The special-purpose address ranges (IANA registries, RFC 6890) a server-side fetch must not reach by default, because
/// they lead to this host, its neighbours or the cloud's instance metadata rather than to the public internet.
/// </summary>
public static class SpecialAddresses
{
    /// <summary>Instance metadata of AWS (IPv4, ECS, IPv6), Alibaba and Oracle: refused even when private networks are allowed.</summary>
    private static readonly IPAddress[] Metadata =
        [.. new[] { "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192" }.Select(IPAddress.Parse)];

    // The first range that contains an address describes it, so narrower ranges come before wider ones.
    private static readonly (IPNetwork Network, string Description, AddressKind Kind)[] Ranges =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "an unspecified ('this network') address", AddressKind.Internal),
        (IPNetwork.Parse("10.0.0.0/8"), "a private (RFC 1918) address", AddressKind.Private),
        (IPNetwork.Parse("100.64.0.0/10"), "a carrier-grade NAT (RFC 6598) address", AddressKind.Private),
        (IPNetwork.Parse("127.0.0.0/8"), "a loopback address", AddressKind.Internal),
        (IPNetwork.Parse("169.254.0.0/16"), "a link-local address", AddressKind.Internal),
        (IPNetwork.Parse("172.16.0.0/12"), "a private (RFC 1918) address", AddressKind.Private),
        (IPNetwork.Parse("192.0.0.0/24"), "an IETF protocol address", AddressKind.Internal),
        (IPNetwork.Parse("192.0.2.0/24"), "a documentation (TEST-NET) address", AddressKind.Internal),
        (IPNetwork.Parse("192.168.0.0/16"), "a private (RFC 1918) address", AddressKind.Private),
        (IPNetwork.Parse("198.18.0.0/15"), "a benchmarking address", AddressKind.Internal),
        (IPNetwork.Parse("198.51.100.0/24"), "a documentation (TEST-NET) address", AddressKind.Internal),
        (IPNetwork.Parse("203.0.113.0/24"), "a documentation (TEST-NET) address", AddressKind.Internal),
        (IPNetwork.Parse("224.0.0.0/4"), "a multicast address", AddressKind.Internal),
        (IPNetwork.Parse("240.0.0.0/4"), "a reserved or broadcast address", AddressKind.Internal),
        (IPNetwork.Parse("::/128"), "an unspecified address", AddressKind.Internal),
        (IPNetwork.Parse("::1/128"), "a loopback address", AddressKind.Internal),
        (IPNetwork.Parse("::/96"), "an IPv4-compatible (deprecated) address", AddressKind.Internal),
        (IPNetwork.Parse("100::/64"), "a discard-only address", AddressKind.Internal),
        (IPNetwork.Parse("2001::/32"), "a Teredo tunnel address", AddressKind.Internal),
        (IPNetwork.Parse("2001:db8::/32"), "a documentation address", AddressKind.Internal),
        (IPNetwork.Parse("fc00::/7"), "a unique-local (private) address", AddressKind.Private),
        (IPNetwork.Parse("fe80::/10"), "a link-local address", AddressKind.Internal),
        (IPNetwork.Parse("fec0::/10"), "a site-local (deprecated) address", AddressKind.Internal),
        (IPNetwork.Parse("ff00::/8"), "a multicast address", AddressKind.Internal),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    public static (AddressKind Kind, string Description) Classify(IPAddress address)
    {
        address = EmbeddedIPv4(address) ?? address;
        if (Metadata.Contains(address))
        {
            return (AddressKind.Internal, "a cloud instance metadata address");
        }

        foreach (var (network, description, kind) in Ranges)
        {
            if (network.Contains(address))
            {
                return (kind, description);
            }
        }

        return (AddressKind.Public, "a public address");
    }

    /// <summary>IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4) are judged by that IPv4 address.</summary>
    public static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address))
        {
            return new IPAddress(bytes[12..16]);
        }

        return SixToFour.Contains(address) ? new IPAddress(bytes[2..6]) : null;
    }
}
