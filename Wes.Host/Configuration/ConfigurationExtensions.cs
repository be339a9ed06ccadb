using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Options;

namespace Wes.Configuration;

public static class ConfigurationExtensions
{
    /// <summary>
    /// The settings, or null when they cannot be bound or are invalid. For options that configure the host itself:
    /// those are built before the settings are checked, and bad ones are then reported by name when the host starts.
    /// </summary>
    public static WesOptions? ValueOrNull(this IOptions<WesOptions> options)
    {
        try
        {
            return options.Value;
        }
        catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The documented environment variables and the settings they set.</summary>
    public static readonly IReadOnlyDictionary<string, string> EnvironmentAliases = new Dictionary<string, string>
    {
        ["WES_DATA_DIR"] = "DataDir",
        ["WES_DATABASE"] = "Database",
        ["WES_DATABASE_PROVIDER"] = "DatabaseProvider",
        ["WES_AUTH_MODE"] = "Auth:Mode",
        ["WES_AUTH_INSTRUCTIONS_URL"] = "ServiceInfo:AuthInstructionsUrl",
        ["WES_MAX_REQUEST_BYTES"] = "Limits:MaxRequestBodyBytes",
        ["WES_MAX_QUEUED_PER_USER"] = "Limits:MaxQueuedRunsPerUser",
        ["WES_RATE_LIMIT"] = "Limits:RequestsPerSecond",
        ["WES_ALLOWED_FETCH_HOSTS"] = "Fetch:AllowedHosts",
        ["WES_ALLOW_PRIVATE_FETCH"] = "Fetch:AllowPrivateNetworks",
        ["WES_RETRY_DELAY"] = "Retry:BaseDelaySeconds",
        ["WES_MIGRATE_ON_STARTUP"] = "MigrateOnStartup",
        ["DEFAULT_WES_PROVIDER"] = "DefaultProvider",
        ["WES_PROVIDERS"] = "Providers",
        ["WORKFLOW_POLL_INTERVAL"] = "PollIntervalSeconds",
        ["WES_MAX_CONCURRENT_RUNS"] = "MaxConcurrentRuns",
        ["WES_LEASE_SECONDS"] = "LeaseSeconds",
        ["WES_MAX_ATTEMPTS"] = "MaxAttempts",
        ["WES_SHUTDOWN_GRACE"] = "ShutdownGraceSeconds",
        ["WES_PUBLIC_BASE_URL"] = "PublicBaseUrl",
        ["WES_ALLOWED_FILE_ROOTS"] = "AllowedFileRoots",
        ["WES_MIN_FREE_DISK_MB"] = "MinFreeDiskMb",
        ["WES_RETENTION_DAYS"] = "Retention:Days",
        ["WES_RETENTION_KEEP_LOGS"] = "Retention:KeepLogs",
        ["WES_SANDBOX"] = "Sandbox:Mode",
        ["WES_SANDBOX_USER"] = "Sandbox:User",
        ["WES_SANDBOX_NETWORK"] = "Sandbox:Network",
        ["WES_SANDBOX_BWRAP"] = "Sandbox:BwrapPath",
        ["WES_METRICS_URLS"] = "Metrics:Urls",
        ["WES_METRICS_REQUIRE_AUTH"] = "Metrics:RequireAuth",
        ["WES_LOG_FORMAT"] = "LogFormat",
        ["WES_WEBHOOK_URL"] = "Webhook:Url",
        ["WES_WEBHOOK_SECRET"] = "Webhook:Secret",
        ["WES_WEBHOOK_STATES"] = "Webhook:States",
        ["WES_WEBHOOK_MAX_AGE"] = "Webhook:MaxAgeHours",
        ["WES_SLURM_ENABLED"] = "Slurm:Enabled",
        ["WES_SLURM_PARTITION"] = "Slurm:Partition",
        ["WES_SLURM_PARTITIONS"] = "Slurm:AllowedPartitions",
        ["WES_SLURM_ACCOUNT"] = "Slurm:Account",
        ["WES_SLURM_QOS"] = "Slurm:Qos",
        ["WES_SLURM_TIME"] = "Slurm:Time",
        ["WES_SLURM_CPUS"] = "Slurm:Cpus",
        ["WES_SLURM_MEM"] = "Slurm:Mem",
        ["WES_SLURM_CONF"] = "Slurm:ConfigPath",
        ["WES_SLURM_BIN"] = "Slurm:BinDir",
        ["WES_SLURM_POLL"] = "Slurm:PollSeconds",
    };

    /// <summary>
    /// Reads appsettings.json beside the binary as well as in the working directory, maps the WES_* variables onto
    /// the "Wes" section, and binds and validates <see cref="WesOptions"/> at start-up.
    /// </summary>
    /// <param name="apiOnly">An API-only process executes nothing, whatever WES_MAX_CONCURRENT_RUNS says.</param>
    public static TBuilder AddWesConfiguration<TBuilder>(this TBuilder builder, bool apiOnly = false) where TBuilder : IHostApplicationBuilder
    {
        // A self-contained binary started from another folder still finds the appsettings.json shipped beside it;
        // it goes before the working directory's file so that one (and the environment) can override it.
        var besideBinary = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        var inWorkingDir = Path.Combine(builder.Environment.ContentRootPath, "appsettings.json");
        if (!string.Equals(Path.GetFullPath(besideBinary), Path.GetFullPath(inWorkingDir), StringComparison.Ordinal))
        {
            var sources = builder.Configuration.Sources;
            var index = sources.ToList().FindIndex(source => source is JsonConfigurationSource);
            var source = new JsonConfigurationSource { Path = besideBinary, Optional = true };
            source.ResolveFileProvider();
            sources.Insert(Math.Max(index, 0), source);
        }

        var aliased = EnvironmentAliases
            .Where(alias => builder.Configuration[alias.Key] is not null)
            .ToDictionary(alias => $"{WesOptions.Section}:{alias.Value}", alias => builder.Configuration[alias.Key]);
        // The usual ConnectionStrings:Wes setting works too; WES_DATABASE wins over it.
        if (builder.Configuration.GetConnectionString("Wes") is { Length: > 0 } connectionString && builder.Configuration["WES_DATABASE"] is null)
        {
            aliased[$"{WesOptions.Section}:Database"] = connectionString;
        }
        if (apiOnly)
        {
            aliased[$"{WesOptions.Section}:MaxConcurrentRuns"] = "0";
        }

        builder.Configuration.AddInMemoryCollection(aliased);
        LoggingSetup.AddWesLogging(builder);

        builder.Services.AddOptions<WesOptions>().Bind(builder.Configuration.GetSection(WesOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WesOptions>, WesOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }
}
