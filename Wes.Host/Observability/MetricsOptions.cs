namespace Wes.Observability;

/// <summary>Where /metrics is served, and whether it needs a token.</summary>
public sealed class MetricsOptions
{
    public const string Path = "/metrics";

    /// <summary>
    /// Separate listener(s) for /metrics, separated by ';' or ',' (WES_METRICS_URLS), e.g. http://127.0.0.1:9090.
    /// Empty: /metrics is served on the API port. Set: only there, and nothing else is served there.
    /// </summary>
    public string? Urls { get; set; }

    /// <summary>Put /metrics behind the API's authentication (WES_METRICS_REQUIRE_AUTH); off by default, like /health.</summary>
    public bool RequireAuth { get; set; }

    public IReadOnlyList<string> UrlList =>
        (Urls ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The ports of <see cref="Urls"/>; a request that arrived on one of them is a scrape.</summary>
    public IReadOnlySet<int> Ports => UrlList.Select(url => ParseUrl(url)?.Port ?? -1).ToHashSet();

    /// <summary>Reports bad values by name (called from the options validator).</summary>
    internal static void Check(MetricsOptions options, Configuration.SettingProblems problems)
    {
        foreach (var url in options.UrlList)
        {
            problems.Check(ParseUrl(url) is { Scheme: "http", AbsolutePath: "/" },
                "WES_METRICS_URLS (Wes:Metrics:Urls)", "must list http://host:port URLs without a path", url);
        }
    }

    // Kestrel's "any address" forms (http://+:9090, http://*:9090) are not URIs by themselves.
    private static Uri? ParseUrl(string url) =>
        Uri.TryCreate(url.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal),
            UriKind.Absolute, out var uri) ? uri : null;
}
