using Microsoft.Extensions.Options;

namespace Wes.Configuration;

/// <summary>Reports every bad setting at once, each with the name a user would set it by.</summary>
public sealed class WesOptionsValidator(IEnumerable<Execution.Engines.IWorkflowEngine> engines) : IValidateOptions<WesOptions>
{
    public static readonly string[] Providers = ["Local", "Mock", Wes.Providers.Slurm.SlurmProvider.ProviderName];

    private readonly IReadOnlyList<Execution.Engines.IWorkflowEngine> _engines = engines.ToList();

    public WesOptionsValidator()
        : this([])
    {
    }

    public ValidateOptionsResult Validate(string? name, WesOptions options)
    {
        var problems = new SettingProblems();
        void Check(bool ok, string setting, string rule, object? value) => problems.Check(ok, setting, rule, value);

        Check(!string.IsNullOrWhiteSpace(options.DataDir), "WES_DATA_DIR (Wes:DataDir)", "must not be empty", options.DataDir);
        bool IsProvider(string name) => Providers.Contains(name, StringComparer.OrdinalIgnoreCase) || options.Remotes.ContainsKey(name);
        var providerNames = string.Join(", ", [.. Providers, .. options.Remotes.Keys]);
        Check(IsProvider(options.DefaultProvider), "DEFAULT_WES_PROVIDER (Wes:DefaultProvider)", $"must be one of {providerNames}", options.DefaultProvider);
        foreach (var listed in options.ProviderList.Where(n => !IsProvider(n)))
        {
            Check(false, "WES_PROVIDERS (Wes:Providers)", $"names '{listed}', which is none of {providerNames}", options.Providers);
        }

        Check(options.PollIntervalSeconds is >= 0.05 and <= 3600,
            "WORKFLOW_POLL_INTERVAL (Wes:PollIntervalSeconds)", "must be between 0.05 and 3600 seconds", options.PollIntervalSeconds);
        Check(options.MaxConcurrentRuns is >= 0 and <= 1024,
            "WES_MAX_CONCURRENT_RUNS (Wes:MaxConcurrentRuns)", "must be between 0 and 1024", options.MaxConcurrentRuns);
        Check(options.LeaseSeconds is >= 1 and <= 86400, "WES_LEASE_SECONDS (Wes:LeaseSeconds)", "must be between 1 and 86400", options.LeaseSeconds);
        Check(options.MaxAttempts is >= 1 and <= 100, "WES_MAX_ATTEMPTS (Wes:MaxAttempts)", "must be between 1 and 100", options.MaxAttempts);
        Check(options.ShutdownGraceSeconds is >= 0 and <= 3600,
            "WES_SHUTDOWN_GRACE (Wes:ShutdownGraceSeconds)", "must be between 0 and 3600", options.ShutdownGraceSeconds);
        Check(options.KillGraceSeconds is >= 0 and <= 600, "Wes:KillGraceSeconds", "must be between 0 and 600", options.KillGraceSeconds);
        Check(options.DefaultPageSize >= 1 && options.DefaultPageSize <= options.MaxPageSize,
            "Wes:DefaultPageSize", "must be between 1 and Wes:MaxPageSize", options.DefaultPageSize);
        Check(options.MaxPageSize is >= 1 and <= 10000, "Wes:MaxPageSize", "must be between 1 and 10000", options.MaxPageSize);
        Check(options.WorkflowDownloadMaxBytes > 0, "Wes:WorkflowDownloadMaxBytes", "must be positive", options.WorkflowDownloadMaxBytes);
        Check(options.WorkflowDownloadTimeoutSeconds > 0, "Wes:WorkflowDownloadTimeoutSeconds", "must be positive", options.WorkflowDownloadTimeoutSeconds);
        Check(string.IsNullOrWhiteSpace(options.DatabaseProvider) || WesOptions.ParseDatabaseProvider(options.DatabaseProvider) is not null,
            "WES_DATABASE_PROVIDER (Wes:DatabaseProvider)", "must be Sqlite or PostgreSQL", options.DatabaseProvider);
        Check(options.Retry.On.All(state => state is "SYSTEM_ERROR" or "PREEMPTED" or "EXECUTOR_ERROR"),
            "Wes:Retry:On", "may only list SYSTEM_ERROR, PREEMPTED and EXECUTOR_ERROR", string.Join(",", options.Retry.On));
        Check(options.Retry.BaseDelaySeconds is >= 0 and <= 86400, "WES_RETRY_DELAY (Wes:Retry:BaseDelaySeconds)", "must be between 0 and 86400", options.Retry.BaseDelaySeconds);
        Check(options.Retry.MaxDelaySeconds >= options.Retry.BaseDelaySeconds, "Wes:Retry:MaxDelaySeconds", "must not be below Wes:Retry:BaseDelaySeconds", options.Retry.MaxDelaySeconds);
        foreach (var root in options.AllowedFileRootList)
        {
            Check(Path.IsPathFullyQualified(root) && Directory.Exists(root),
                "WES_ALLOWED_FILE_ROOTS (Wes:AllowedFileRoots)", "must list absolute paths of existing folders", root);
        }

        Check(options.UnpackMaxBytes > 0, "Wes:UnpackMaxBytes", "must be positive", options.UnpackMaxBytes);
        Check(options.UnpackMaxEntries > 0, "Wes:UnpackMaxEntries", "must be positive", options.UnpackMaxEntries);
        Check(options.Idempotency.KeyHours is > 0 and <= 8760, "Wes:Idempotency:KeyHours", "must be more than 0 and at most 8760 (a year)", options.Idempotency.KeyHours);
        // A submission moves its folder into place moments before the row commits; the grace must outlast a slow commit.
        Check(options.Janitor.GraceSeconds is >= 300 and <= 31_536_000,
            "Wes:Janitor:GraceSeconds", "must be between 300 and 31536000", options.Janitor.GraceSeconds);
        Check(options.Janitor.IntervalSeconds is >= 10 and <= 86400,
            "Wes:Janitor:IntervalSeconds", "must be between 10 and 86400", options.Janitor.IntervalSeconds);
        Check(options.MinFreeDiskMb is >= 0 and <= 1L << 40, "WES_MIN_FREE_DISK_MB (Wes:MinFreeDiskMb)", "must be between 0 (off) and 1099511627776", options.MinFreeDiskMb);
        Check(options.Retention.Days is >= 0 and <= 36_500, "WES_RETENTION_DAYS (Wes:Retention:Days)", "must be between 0 (keep for ever) and 36500", options.Retention.Days);
        Check(options.Retention.IntervalSeconds is >= 10 and <= 86400,
            "Wes:Retention:IntervalSeconds", "must be between 10 and 86400", options.Retention.IntervalSeconds);
        Check(options.Retention.BatchSize is >= 1 and <= 10_000, "Wes:Retention:BatchSize", "must be between 1 and 10000", options.Retention.BatchSize);
        Check(options.Mock.DelayMilliseconds >= 0, "Wes:Mock:DelayMilliseconds", "must not be negative", options.Mock.DelayMilliseconds);
        Check(string.IsNullOrWhiteSpace(options.PublicBaseUrl) || IsHttpUrl(options.PublicBaseUrl),
            "WES_PUBLIC_BASE_URL (Wes:PublicBaseUrl)", "must be an absolute http(s) URL", options.PublicBaseUrl);
        Check(string.IsNullOrWhiteSpace(options.ServiceInfo.AuthInstructionsUrl) || IsHttpUrl(options.ServiceInfo.AuthInstructionsUrl),
            "Wes:ServiceInfo:AuthInstructionsUrl", "must be an absolute http(s) URL", options.ServiceInfo.AuthInstructionsUrl);

        Check(LoggingSetup.Formats.Contains(options.LogFormat.Trim(), StringComparer.OrdinalIgnoreCase),
            "WES_LOG_FORMAT (Wes:LogFormat)", $"must be one of {string.Join(", ", LoggingSetup.Formats)}", options.LogFormat);
        Observability.MetricsOptions.Check(options.Metrics, problems);
        // Asked for a token on /metrics while the API takes none would leave it open without saying so.
        problems.Check(!options.Metrics.RequireAuth || options.Auth.IsOn, "WES_METRICS_REQUIRE_AUTH (Wes:Metrics:RequireAuth)",
            "needs authentication on (WES_AUTH_MODE token or jwt)", options.Metrics.RequireAuth);
        Security.SecuritySettingsRules.Check(options, problems);
        Execution.Sandbox.SandboxSettingsRules.Check(options.Sandbox, problems);
        Notifications.WebhookTargets.Check(options, problems);
        Wes.Providers.Slurm.SlurmOptions.Check(options.Slurm, problems);
        Wes.Providers.Remote.RemoteSettingsRules.Check(options, _engines, problems);

        return problems.Failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems.Failures);
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
