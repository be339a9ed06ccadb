using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Notifications;

/// <summary>
/// Where the links of an alert point: WES_PUBLIC_BASE_URL, else the first address this process listens on, else the
/// configured listen URLs (an executor-only process listens on none), else the default http://localhost:5000.
/// </summary>
public sealed class WebhookLinks(IOptions<WesOptions> options, IConfiguration configuration, IEnumerable<IServer> servers)
{
    public const string ApiPath = "/ga4gh/wes/v1";

    /// <summary>Read when the first alert is sent, after the server has bound its addresses.</summary>
    public string ApiBase => PublicBase(options.Value.PublicBaseUrl, ListenAddresses()) + ApiPath;

    private IEnumerable<string> ListenAddresses()
    {
        var bound = servers.SelectMany(server => server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []);
        var configured = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return bound.Concat(configured);
    }

    /// <summary>
    /// The configured base, else the first usable listen address. A wildcard host (0.0.0.0, [::], +, *) and port 0
    /// say nothing a receiver could use: the machine's host name stands for the former, and the latter is skipped.
    /// </summary>
    public static string PublicBase(string? configured, IEnumerable<string> listening)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured.TrimEnd('/');
        }

        foreach (var address in listening)
        {
            var wildcard = address.Replace("://+", "://wildcard", StringComparison.Ordinal).Replace("://*", "://wildcard", StringComparison.Ordinal);
            if (!Uri.TryCreate(wildcard, UriKind.Absolute, out var uri) || uri.Port == 0)
            {
                continue;
            }

            var host = uri.Host is "wildcard" or "0.0.0.0" or "[::]" ? Environment.MachineName.ToLowerInvariant() : uri.Host;
            return new UriBuilder(uri.Scheme, host, uri.Port).Uri.GetLeftPart(UriPartial.Authority);
        }

        return "http://localhost:5000";
    }
}
