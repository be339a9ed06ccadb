using System.Data.Common;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Persistence;
using Wes.Providers;

namespace Wes.Api;

/// <summary>
/// /health/live (the process answers) and /health/ready (the database is reachable and migrated, an engine is
/// available, the executor pool is alive where this process executes runs, and the Slurm controller answers where
/// Slurm is used). Outside the WES API: no token needed, so load balancers and container runtimes can ask; the answer
/// names no path, address or secret.
/// </summary>
public static class HealthEndpoints
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";
    private const string ReadyTag = "ready";
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddWesHealth(this IServiceCollection services)
    {
        services.TryAddSingleton<ExecutorPulse>();
        services.TryAddSingleton<DiskGuard>();
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag], timeout: CheckTimeout)
            .AddCheck<EnginesHealthCheck>("engines", tags: [ReadyTag], timeout: CheckTimeout)
            .AddCheck<ExecutorHealthCheck>("executor", tags: [ReadyTag], timeout: CheckTimeout)
            .AddCheck<DiskHealthCheck>("disk", tags: [ReadyTag], timeout: CheckTimeout);
        // The Slurm controller is checked only where Slurm is on; elsewhere the check would have nothing to say.
        services.AddOptions<HealthCheckServiceOptions>().Configure<IOptions<WesOptions>>((health, options) =>
        {
            if (options.ValueOrNull() is { } settings && Providers.Slurm.SlurmOptions.IsOn(settings))
            {
                health.Registrations.Add(new HealthCheckRegistration("slurm",
                    provider => ActivatorUtilities.CreateInstance<Providers.Slurm.SlurmHealthCheck>(provider), null, [ReadyTag], CheckTimeout));
            }
        });
        return services;
    }

    public static WebApplication MapWesHealth(this WebApplication app)
    {
        app.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).ExcludeFromDescription();
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>{"status": "Healthy", "checks": {"database": {"status": ..., "description": ...}, ...}}; 503 when unhealthy.</summary>
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var checks = new JsonObject();
        foreach (var (name, entry) in report.Entries)
        {
            checks[name] = new JsonObject { ["status"] = entry.Status.ToString(), ["description"] = entry.Description };
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(new JsonObject { ["status"] = report.Status.ToString(), ["checks"] = checks }.ToJsonString());
    }
}

/// <summary>The database answers, and has every migration this build knows.</summary>
public sealed class DatabaseHealthCheck(DatabaseInitializer initializer, IRunDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var pending = await initializer.PendingMigrationsAsync(cancellationToken);
            return pending.Count == 0
                ? HealthCheckResult.Healthy($"{database.Kind} reachable, schema up to date")
                : HealthCheckResult.Unhealthy($"{database.Kind} reachable, but {pending.Count} migration(s) are not applied (first: {pending[0]}); run 'Wes.Host migrate'");
        }
        catch (Exception ex) when (ex is DbException or IOException or TimeoutException or InvalidOperationException)
        {
            // The kind of failure only: a driver's message can name hosts and paths.
            return HealthCheckResult.Unhealthy($"{database.Kind} cannot be reached ({StorageFaults.Classify(ex)}: {ex.GetType().Name})");
        }
    }
}

/// <summary>The default provider has at least one workflow engine to run.</summary>
public sealed class EnginesHealthCheck(IEnumerable<IExecutionProvider> providers, IOptions<WesOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var provider = ExecutionProviders.Default(providers, options.Value);
        var engines = await provider.GetEnginesAsync(cancellationToken);
        return engines.Count > 0
            ? HealthCheckResult.Healthy($"{provider.Name}: {string.Join(", ", engines.Select(e => $"{e.Engine.Name} {e.Version}"))}")
            : HealthCheckResult.Unhealthy($"{provider.Name}: no workflow engine is installed or answers its version probe");
    }
}

/// <summary>In a process that executes runs, the executor pool has started and its heartbeat loop is going round.</summary>
public sealed class ExecutorHealthCheck(ExecutorPulse pulse, IOptions<WesOptions> options, TimeProvider clock) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        if (settings.MaxConcurrentRuns == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy("this process executes no runs (API only)"));
        }

        // The loop beats every quarter lease; three beats missed means it is stuck or gone.
        var allowed = TimeSpan.FromSeconds(settings.LeaseSeconds / 4.0 * 3);
        return Task.FromResult(pulse.LastBeatAt switch
        {
            null => HealthCheckResult.Unhealthy("the executor pool is still starting (engine probe, reconciliation)"),
            { } last when clock.GetUtcNow() - last > allowed =>
                HealthCheckResult.Unhealthy($"the executor pool's heartbeat is {(clock.GetUtcNow() - last).TotalSeconds:0} s old"),
            _ => HealthCheckResult.Healthy($"{settings.MaxConcurrentRuns} worker(s)"),
        });
    }
}

/// <summary>The data volume has the free space WES_MIN_FREE_DISK_MB asks for; below it submissions are refused.</summary>
public sealed class DiskHealthCheck(DiskGuard guard) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var free = guard.FreeBytes() is { } bytes ? $"{bytes / (1024 * 1024)} MB free" : "free space unknown";
        return Task.FromResult(guard.Shortage() is { } shortage
            ? HealthCheckResult.Degraded($"low disk space: {shortage.Describe()}; submissions are refused and queued runs wait")
            : HealthCheckResult.Healthy(guard.MinimumBytes > 0 ? $"{free} (minimum {guard.MinimumBytes / (1024 * 1024)} MB)" : $"{free} (no minimum set)"));
    }
}
