using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Wes.Api;
using Wes.Configuration;
using Wes.Security;

namespace Wes.Observability;

public static class ObservabilityExtensions
{
    /// <summary>The authorization policy of /metrics: the API's own with WES_METRICS_REQUIRE_AUTH=true, anyone otherwise.</summary>
    public const string MetricsPolicy = "wes-metrics";

    /// <summary>
    /// The "Wes" meter, HTTP server and runtime metrics, exported for Prometheus. A web host serves /metrics on its API
    /// port, or only on WES_METRICS_URLS when set (Kestrel listens on both); the executor, which has no web host, gets a
    /// small listener of its own on WES_METRICS_URLS.
    /// </summary>
    public static TBuilder AddWesObservability<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddSingleton<RunStateGauge>();
        services.AddSingleton<WesMetrics>();
        // Built when the host starts, after the settings are checked; the meter provider exists earlier (the
        // pipeline asks for it) and takes the instruments up whenever they appear.
        services.AddHostedService(provider => provider.GetRequiredService<WesMetrics>());
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(WesMetrics.MeterName)
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());

        var metricsUrls = builder.Configuration.GetSection($"{WesOptions.Section}:Metrics").Get<MetricsOptions>()?.UrlList ?? [];
        if (builder is WebApplicationBuilder web)
        {
            services.AddOptions<AuthorizationOptions>().Configure<IOptions<WesOptions>>((authorization, wes) =>
                authorization.AddPolicy(MetricsPolicy, wes.Value.Metrics.RequireAuth
                    ? AccessPolicy.For(wes.Value.Auth)
                    : new AuthorizationPolicyBuilder().RequireAssertion(_ => true).Build()));
            if (metricsUrls.Count > 0)
            {
                web.WebHost.UseUrls([.. ApiUrls(web.Configuration), .. metricsUrls]);
            }
        }
        else if (metricsUrls.Count > 0)
        {
            services.AddHostedService<ExecutorMetricsListener>();
            services.AddOptions<WesOptions>().Validate(wes => !wes.Metrics.RequireAuth,
                "WES_METRICS_REQUIRE_AUTH (Wes:Metrics:RequireAuth) cannot be true for an executor: it has no authentication of its own. " +
                "Bind WES_METRICS_URLS to an address only the scraper can reach instead.");
        }

        return builder;
    }

    /// <summary>
    /// /metrics on the API pipeline. With WES_METRICS_URLS, a request is served only where it belongs: /metrics on a
    /// metrics port, everything else on the others; this goes ahead of authentication, so the metrics port never
    /// answers for the API.
    /// </summary>
    public static WebApplication UseWesMetrics(this WebApplication app)
    {
        // Read at the first request: the pipeline is built before the settings are checked.
        var options = app.Services.GetRequiredService<IOptions<WesOptions>>();
        var metricsPorts = new Lazy<IReadOnlySet<int>>(() => options.Value.Metrics.Ports);
        app.Use((context, next) =>
        {
            var ports = metricsPorts.Value;
            var isScrape = context.Request.Path.Equals(MetricsOptions.Path, StringComparison.OrdinalIgnoreCase);
            return ports.Count == 0 || ports.Contains(context.Connection.LocalPort) == isScrape
                ? next(context)
                : ApiErrors.WriteAsync(context.Response, StatusCodes.Status404NotFound,
                    isScrape ? "Metrics are served on the WES_METRICS_URLS listener, not here." : "This listener serves /metrics only.");
        });
        app.MapPrometheusScrapingEndpoint(MetricsOptions.Path).RequireAuthorization(MetricsPolicy).ExcludeFromDescription();
        return app;
    }

    /// <summary>The URLs the API would listen on by itself, which listening on the metrics URLs too must keep.</summary>
    private static IEnumerable<string> ApiUrls(IConfiguration configuration)
    {
        if (configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } urls)
        {
            return urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        var ports = (configuration[WebHostDefaults.HttpPortsKey] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(port => $"http://*:{port}")
            .Concat((configuration[WebHostDefaults.HttpsPortsKey] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(port => $"https://*:{port}"))
            .ToList();
        // Kestrel's own default when nothing is configured.
        return ports.Count > 0 ? ports : ["http://localhost:5000"];
    }
}
