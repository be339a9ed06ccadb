using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Wes.Api;
using Wes.Configuration;

namespace Wes.Security;

/// <summary>
/// Requests must name this server in their Host header: a name in ASP.NET's AllowedHosts setting, or the host of
/// WES_PUBLIC_BASE_URL. Without a public base URL the links in responses are built from Host, so a forged one would
/// point them elsewhere; and a web page that rebinds its own name to 127.0.0.1 could drive a server on localhost.
/// </summary>
public static class AllowedHosts
{
    public const string Setting = "AllowedHosts";

    /// <summary>When AllowedHosts is not set at all: the names of a server that listens on localhost, its default.</summary>
    public const string Default = "localhost;127.0.0.1;[::1]";

    public static IServiceCollection AddWesAllowedHosts(this IServiceCollection services)
    {
        // ASP.NET's own host filter would refuse first, with an HTML page; this server refuses with an ErrorResponse
        // (UseWesAllowedHosts), from the same setting, so the framework's filter lets every host through.
        services.PostConfigure<HostFilteringOptions>(options => options.AllowedHosts = ["*"]);
        return services;
    }

    /// <summary>A refused Host is a 400 ErrorResponse, before authentication and before anything builds a link.</summary>
    public static WebApplication UseWesAllowedHosts(this WebApplication app)
    {
        // Built at the first request: the pipeline is built before the settings are checked.
        var options = app.Services.GetRequiredService<IOptions<WesOptions>>();
        var patterns = new Lazy<List<StringSegment>?>(() => Patterns(app.Configuration[Setting], options.Value.PublicBaseUrl));
        app.Use((context, next) =>
        {
            var host = context.Request.Headers.Host.ToString();
            // HTTP/1.0 needs no Host; a request without one gets links without a host, never someone else's.
            return host.Length == 0 || patterns.Value is null || HostString.MatchesAny(host, patterns.Value)
                ? next(context)
                : ApiErrors.WriteAsync(context.Response, StatusCodes.Status400BadRequest,
                    $"Host '{(host.Length > 200 ? host[..200] + "…" : host)}' is not allowed: it is not a name this server answers to. " +
                    "To reach the server by this name, add it to the AllowedHosts setting (names separated by ';', without ports), " +
                    "or set WES_PUBLIC_BASE_URL to the URL clients use.");
        });
        return app;
    }

    /// <summary>The Host patterns allowed ("*.example.org" included), or null when every host is ("*").</summary>
    public static List<StringSegment>? Patterns(string? setting, string? publicBaseUrl)
    {
        var entries = (string.IsNullOrWhiteSpace(setting) ? Default : setting)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        if (entries.Contains("*"))
        {
            return null;
        }

        if (Uri.TryCreate(publicBaseUrl, UriKind.Absolute, out var publicBase))
        {
            entries.Add(publicBase.Host);
        }

        // Clients send international names in punycode; ToUriComponent turns a Unicode entry into the same form.
        return entries.Select(entry => new StringSegment(new HostString(entry).ToUriComponent())).Distinct().ToList();
    }
}
