using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Execution;

/// <summary>
/// The in-process executor pool: WES_MAX_CONCURRENT_RUNS workers that claim queued runs when signalled or on every
/// poll. On SIGTERM it stops claiming, lets runs in flight finish for WES_SHUTDOWN_GRACE seconds, then stops their
/// engines and hands the runs back to the queue.
/// </summary>
public sealed class ExecutorService(
    RunExecutor executor, Reconciler reconciler, RunSignal signal, RunCancellations cancellations,
    Engines.EngineCatalog catalog, IOptions<WesOptions> options, ILogger<ExecutorService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (string.Equals(settings.DefaultProvider, "Local", StringComparison.OrdinalIgnoreCase))
        {
            // Ask the engines for their versions now, not on the first request that needs them.
            await catalog.GetAvailableAsync(stoppingToken);
        }

        await ReconcileSafelyAsync(stoppingToken);
        logger.LogInformation("Executor pool started with {Workers} worker(s), polling every {Poll} s",
            settings.MaxConcurrentRuns, settings.PollIntervalSeconds);
        var workers = Enumerable.Range(0, settings.MaxConcurrentRuns).Select(_ => WorkerLoopAsync(stoppingToken)).ToList();
        workers.Add(ReconcileLoopAsync(stoppingToken));
        await Task.WhenAll(workers);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // base.StopAsync cancels stoppingToken (no new claims) and waits for the workers to finish their runs.
        var stopping = base.StopAsync(CancellationToken.None);
        var graceOver = Task.Delay(TimeSpan.FromSeconds(options.Value.ShutdownGraceSeconds), CancellationToken.None);
        while (await Task.WhenAny(stopping, graceOver) != stopping)
        {
            // Grace is over: stop every engine still running; each run is handed back to the queue.
            cancellations.StopAll(StopReason.Shutdown);
            graceOver = Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
        }

        await stopping;
    }

    private async Task WorkerLoopAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(options.Value.PollIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Drain the queue, then sleep until a submission signal or the next poll.
                while (!stoppingToken.IsCancellationRequested && await executor.ExecuteNextAsync(stoppingToken))
                {
                }

                await signal.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A worker never dies: log, back off one poll interval, carry on.
                logger.LogError(ex, "Executor worker iteration failed");
                await Task.Delay(poll, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task ReconcileLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(options.Value.PollIntervalSeconds, options.Value.LeaseSeconds / 2)));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (await ReconcileSafelyAsync(stoppingToken) > 0)
                {
                    signal.Notify();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    private async Task<int> ReconcileSafelyAsync(CancellationToken stoppingToken)
    {
        try
        {
            return await reconciler.ReconcileAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Reconciling runs of lost executors failed");
            return 0;
        }
    }
}

public static class ExecutionExtensions
{
    public static IServiceCollection AddWesExecution(this IServiceCollection services)
    {
        services.AddSingleton<ExecutorIdentity>();
        services.AddSingleton<RunSignal>();
        services.AddSingleton<RunCancellations>();
        services.AddSingleton<Engines.EngineCatalog>();
        Engines.EngineRegistration.AddWorkflowEngines(services);
        services.AddSingleton<Providers.WorkflowFetcher>();
        services.AddSingleton<Providers.IExecutionProvider, Providers.LocalProvider>();
        services.AddSingleton<Providers.IExecutionProvider, Providers.MockProvider>();
        services.AddSingleton<RunExecutor>();
        services.AddSingleton<Reconciler>();
        services.AddHostedService<ExecutorService>();
        // Transient network faults are retried; the whole fetch, retries included, stays within the download limit.
        services.AddHttpClient(Providers.WorkflowFetcher.HttpClientName).AddStandardResilienceHandler()
            .Configure((resilience, provider) =>
            {
                var limit = TimeSpan.FromSeconds(provider.GetRequiredService<IOptions<WesOptions>>().Value.WorkflowDownloadTimeoutSeconds);
                resilience.TotalRequestTimeout.Timeout = limit;
                resilience.AttemptTimeout.Timeout = limit / 3;
                resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(Math.Max(30, 2 * (limit / 3).TotalSeconds));
            });
        // The host must wait for the shutdown grace, plus the time engines get to exit after SIGTERM.
        services.AddOptions<HostOptions>().Configure<IServiceProvider>((host, provider) =>
        {
            try
            {
                var wes = provider.GetRequiredService<IOptions<WesOptions>>().Value;
                host.ShutdownTimeout = TimeSpan.FromSeconds(wes.ShutdownGraceSeconds + wes.KillGraceSeconds + 10);
            }
            catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException)
            {
                // Bad settings are reported, each by name, when the host starts; this runs before that.
            }
        });
        return services;
    }
}
