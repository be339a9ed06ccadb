namespace Wes.Configuration;

/// <summary>Every server setting, with its code default. Bound from the "Wes" section and the WES_* variables.</summary>
public sealed class WesOptions
{
    public const string Section = "Wes";

    /// <summary>Root of the database file and the per-run directories (WES_DATA_DIR).</summary>
    public string DataDir { get; set; } = "./data";

    /// <summary>Database connection string (WES_DATABASE or ConnectionStrings:Wes); empty means SQLite at DataDir/wes.db.</summary>
    public string? Database { get; set; }

    /// <summary>Sqlite or PostgreSQL (WES_DATABASE_PROVIDER); empty means "PostgreSQL when the connection string names a Host".</summary>
    public string? DatabaseProvider { get; set; }

    /// <summary>Apply EF migrations when the server starts (WES_MIGRATE_ON_STARTUP).</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>Provider that executes runs: Local, Mock, Slurm or the name of a remote in Wes:Remotes (DEFAULT_WES_PROVIDER).</summary>
    public string DefaultProvider { get; set; } = "Local";

    /// <summary>
    /// Providers a run may pick with the tag wes.provider besides the default, comma-separated (WES_PROVIDERS). Empty:
    /// every remote, and Slurm when it is on; Local and Mock only when named here or as the default.
    /// </summary>
    public string? Providers { get; set; }

    public IReadOnlyList<string> ProviderList =>
        (Providers ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Seconds between database polls for runs submitted by other processes (WORKFLOW_POLL_INTERVAL).</summary>
    public double PollIntervalSeconds { get; set; } = 10;

    /// <summary>Runs executed at once by this process (WES_MAX_CONCURRENT_RUNS).</summary>
    public int MaxConcurrentRuns { get; set; } = Environment.ProcessorCount;

    /// <summary>How long a claim stays valid without being renewed (WES_LEASE_SECONDS).</summary>
    public double LeaseSeconds { get; set; } = 60;

    /// <summary>Attempts a run gets, counting retries after failures and re-queues after lost executors (WES_MAX_ATTEMPTS).</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Seconds in-flight runs get to finish after SIGTERM before they are handed back (WES_SHUTDOWN_GRACE).</summary>
    public double ShutdownGraceSeconds { get; set; } = 20;

    /// <summary>Seconds an engine gets between SIGTERM and SIGKILL when a run is canceled.</summary>
    public double KillGraceSeconds { get; set; } = 5;

    /// <summary>Absolute base URL for links in responses (WES_PUBLIC_BASE_URL); empty means "from the request".</summary>
    public string? PublicBaseUrl { get; set; }

    public int DefaultPageSize { get; set; } = 50;
    public int MaxPageSize { get; set; } = 500;

    /// <summary>Limits for fetching an http(s) workflow_url.</summary>
    public long WorkflowDownloadMaxBytes { get; set; } = 10 * 1024 * 1024;
    public double WorkflowDownloadTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Server folders that file:// inputs in workflow_params may come from (WES_ALLOWED_FILE_ROOTS), separated by ':'
    /// or ','. Empty (the default) allows none.
    /// </summary>
    public string? AllowedFileRoots { get; set; }

    /// <summary>Limits for unpacking a zip attachment: total bytes written and number of entries.</summary>
    public long UnpackMaxBytes { get; set; } = 1024L * 1024 * 1024;
    public int UnpackMaxEntries { get; set; } = 10_000;

    public MockProviderOptions Mock { get; set; } = new();
    public ServiceInfoOptions ServiceInfo { get; set; } = new();

    public IReadOnlyList<string> AllowedFileRootList =>
        (AllowedFileRoots ?? "").Split([':', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public string ResolvedDataDir => Path.GetFullPath(DataDir);
    public string RunsDir => Path.Combine(ResolvedDataDir, "runs");

    public string ConnectionString =>
        string.IsNullOrWhiteSpace(Database) ? $"Data Source={Path.Combine(ResolvedDataDir, "wes.db")}" : Database;

    public Persistence.DatabaseKind DatabaseKind =>
        ParseDatabaseProvider(DatabaseProvider) ??
        (ConnectionString.Contains("Host=", StringComparison.OrdinalIgnoreCase) ? Persistence.DatabaseKind.PostgreSql : Persistence.DatabaseKind.Sqlite);

    /// <summary>The database a WES_DATABASE_PROVIDER value names, or null if it names none.</summary>
    public static Persistence.DatabaseKind? ParseDatabaseProvider(string? name) => name?.Trim().ToUpperInvariant() switch
    {
        "POSTGRESQL" or "POSTGRES" or "NPGSQL" => Persistence.DatabaseKind.PostgreSql,
        "SQLITE" => Persistence.DatabaseKind.Sqlite,
        _ => null,
    };

    /// <summary>Run-level retries: how long a failed attempt waits before it is queued again.</summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>Who may call the API, how much and how often a client may send, and where the server may fetch from.</summary>
    public Security.AuthOptions Auth { get; set; } = new();
    public Security.LimitOptions Limits { get; set; } = new();
    public Security.FetchOptions Fetch { get; set; } = new();
    public Api.IdempotencyOptions Idempotency { get; set; } = new();

    /// <summary>
    /// Free space the data volume must keep, in MB (WES_MIN_FREE_DISK_MB): below it submissions are refused (507) and
    /// queued runs wait. 0 (the default) turns the guard off.
    /// </summary>
    public long MinFreeDiskMb { get; set; }

    /// <summary>Removal of the files of runs that ended long ago.</summary>
    public Execution.RetentionOptions Retention { get; set; } = new();

    /// <summary>Removal of the folders that crashed submissions leave in the runs folder.</summary>
    public Execution.JanitorOptions Janitor { get; set; } = new();

    /// <summary>Console log format: simple (the default) or json (WES_LOG_FORMAT).</summary>
    public string LogFormat { get; set; } = LoggingSetup.Simple;

    /// <summary>Where /metrics is served and whether it needs a token.</summary>
    public Observability.MetricsOptions Metrics { get; set; } = new();

    /// <summary>The Slurm provider: resources of each run's batch job and how its jobs are followed.</summary>
    public Providers.Slurm.SlurmOptions Slurm { get; set; } = new();

    /// <summary>How engines are confined: bubblewrap, their user, their network.</summary>
    public Execution.Sandbox.SandboxOptions Sandbox { get; set; } = new();

    /// <summary>Receivers of alerts when runs end (Wes:Webhooks:N), besides the one WES_WEBHOOK_URL names.</summary>
    public List<Notifications.WebhookTarget> Webhooks { get; set; } = [];

    /// <summary>The WES_WEBHOOK_* receiver and how alerts are delivered.</summary>
    public Notifications.WebhookOptions Webhook { get; set; } = new();

    /// <summary>Remote WES servers runs may be forwarded to, by name (Wes:Remotes:&lt;name&gt;:Url, Wes__Remotes__&lt;name&gt;__Url).</summary>
    public Dictionary<string, Providers.Remote.RemoteWesOptions> Remotes { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

public sealed class RetryOptions
{
    /// <summary>
    /// Outcomes that send a run back to the queue while attempts remain (Wes:Retry:On). Empty means the default,
    /// SYSTEM_ERROR and PREEMPTED: the configuration binder adds listed values to an initialised array rather than
    /// replacing it, so the default lives in <see cref="EffectiveOn"/>.
    /// </summary>
    public string[] On { get; set; } = [];

    public IReadOnlyList<string> EffectiveOn => On.Length > 0 ? On : ["SYSTEM_ERROR", "PREEMPTED"];

    /// <summary>First back-off; each further attempt doubles it, with jitter (WES_RETRY_DELAY).</summary>
    public double BaseDelaySeconds { get; set; } = 5;

    public double MaxDelaySeconds { get; set; } = 300;
}

public sealed class MockProviderOptions
{
    /// <summary>How long a Mock run takes, unless its tags say otherwise.</summary>
    public int DelayMilliseconds { get; set; } = 200;

    /// <summary>When set, every Mock execution appends its start and end to this file (for scale-out tests).</summary>
    public string? ExecutionLog { get; set; }
}

public sealed class ServiceInfoOptions
{
    public string Id { get; set; } = "org.ga4gh.wes.host";
    public string Name { get; set; } = "Wes.Host";
    public string Description { get; set; } = "GA4GH Workflow Execution Service running CWL, Snakemake and Nextflow workflows.";
    public string OrganizationName { get; set; } = "Wes.Host";
    public string OrganizationUrl { get; set; } = "https://www.ga4gh.org";
    public string? ContactUrl { get; set; }
    public string? DocumentationUrl { get; set; }
    public string Environment { get; set; } = "dev";
    /// <summary>Where users learn how to authenticate; empty means this server's API reference page.</summary>
    public string? AuthInstructionsUrl { get; set; }
}
