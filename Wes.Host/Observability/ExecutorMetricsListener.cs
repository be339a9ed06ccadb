using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Wes.Configuration;

namespace Wes.Observability;

/// <summary>
/// /metrics for the executor role, which has no web host: a minimal Kestrel server on WES_METRICS_URLS that serves
/// the scrape from this process's meter provider and nothing else.
/// </summary>
public sealed class ExecutorMetricsListener(
    MeterProvider meterProvider, ILoggerFactory loggerFactory, IOptions<WesOptions> options) : IHostedService, IAsyncDisposable
{
    private WebApplication? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls([.. options.Value.Metrics.UrlList]);
        // One log for the process, in its format; the process's own lifetime handles signals and stops this server.
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, NoLifetime>();
        _server = builder.Build();
        _server.MapPrometheusScrapingEndpoint(MetricsOptions.Path, meterProvider, configureBranchedPipeline: null, optionsName: null);
        await _server.StartAsync(cancellationToken);
        loggerFactory.CreateLogger<ExecutorMetricsListener>().LogInformation("Metrics served at {Urls}", options.Value.Metrics.Urls);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _server?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private sealed class NoLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
