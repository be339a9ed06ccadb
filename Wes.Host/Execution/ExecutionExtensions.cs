using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution.Engines;
using Wes.Execution.Sandbox;
using Wes.Notifications;
using Wes.Persistence;
using Wes.Providers;
using Wes.Providers.Slurm;
using Wes.Security;

namespace Wes.Execution;

public static class ExecutionExtensions
{
    /// <summary>Engines and providers: what the API needs to validate and describe runs, and executors need to run them.</summary>
    public static IServiceCollection AddWesEngines(this IServiceCollection services)
    {
        services.AddSingleton<ExecutorIdentity>();
        services.TryAddSingleton<DiskGuard>();
        services.AddSingleton<RunSignal>();
        services.AddSingleton<RunCancellations>();
        services.AddSingleton<EngineCatalog>();
        EngineRegistration.AddWorkflowEngines(services);
        services.AddSingleton<WorkflowFetcher>();
        services.AddSingleton<OutboundAddressPolicy>();
        services.AddEngineSandbox();
        services.AddSingleton<LocalProvider>();
        services.AddSingleton<IExecutionProvider>(provider => provider.GetRequiredService<LocalProvider>());
        services.AddSingleton<IExecutionProvider, MockProvider>();
        services.AddSlurmProvider();
        // Every connection goes through the address policy, redirects included. No proxy: through a proxy the
        // handler would connect to the proxy, and the address of the real target could not be checked.
        services.AddHttpClient(WorkflowFetcher.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
            {
                ConnectCallback = provider.GetRequiredService<OutboundAddressPolicy>().ConnectAsync,
                UseProxy = false,
                MaxAutomaticRedirections = 5,
            })
            // Transient network faults are retried; the whole fetch, retries included, stays within the download limit.
            .AddStandardResilienceHandler()
            .Configure((resilience, provider) =>
            {
                var limit = TimeSpan.FromSeconds(provider.GetRequiredService<IOptions<WesOptions>>().Value.WorkflowDownloadTimeoutSeconds);
                resilience.TotalRequestTimeout.Timeout = limit;
                resilience.AttemptTimeout.Timeout = limit / 3;
                resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(Math.Max(30, 2 * (limit / 3).TotalSeconds));
                resilience.Retry.ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome));
                resilience.CircuitBreaker.ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome));
            });
        return services;
    }

    /// <summary>A refused address stays refused: retrying it, or counting it against the circuit, would only delay the answer.</summary>
    private static bool IsTransient(Polly.Outcome<HttpResponseMessage> outcome) =>
        WorkflowFetcher.RefusalIn(outcome.Exception) is null && HttpClientResiliencePredicates.IsTransient(outcome);

    /// <summary>The executor pool that claims and runs queued runs, with its reconciler and wake-up listener.</summary>
    public static IServiceCollection AddWesExecutorPool(this IServiceCollection services)
    {
        services.TryAddSingleton<ExecutorPulse>();
        services.AddSingleton<LeaseKeeper>();
        services.AddSingleton<RunExecutor>();
        services.AddSingleton<RunRetryPolicy>();
        services.AddSingleton<Reconciler>();
        services.AddSingleton<WorkspaceJanitor>();
        services.AddSingleton<RunRetention>();
        services.AddHostedService<ExecutorService>();
        services.AddHostedService<RunRetentionService>();
        services.AddHostedService<PostgresWakeupListener>();
        // Alerts are sent where runs are executed; any process may add them (a cancel in an API process ends a run).
        services.AddWesWebhookSender();
        // The host must wait for the shutdown grace, plus the time engines get to exit after SIGTERM.
        services.AddOptions<HostOptions>().Configure<IServiceProvider>((host, provider) =>
        {
            if (provider.GetRequiredService<IOptions<WesOptions>>().ValueOrNull() is { } wes)
            {
                host.ShutdownTimeout = TimeSpan.FromSeconds(wes.ShutdownGraceSeconds + wes.KillGraceSeconds + 10);
            }
        });
        return services;
    }
}
