namespace Wes.Execution.Engines;

/// <summary>An engine found on this machine, with the version it reported.</summary>
public sealed record AvailableEngine(IWorkflowEngine Engine, string Version, string ExecutablePath);

/// <summary>
/// The registered engines and which of them this machine has. Probing runs each engine's --version once and caches
/// the answer; an engine that was missing is looked for again after a minute, so installing one needs no restart.
/// </summary>
public sealed class EngineCatalog(IEnumerable<IWorkflowEngine> engines, TimeProvider clock, ILogger<EngineCatalog> logger)
{
    private static readonly TimeSpan MissingRecheck = TimeSpan.FromMinutes(1);
    private readonly SemaphoreSlim _probeLock = new(1, 1);
    private IReadOnlyList<AvailableEngine>? _available;
    private DateTimeOffset _probedAt;

    public IReadOnlyList<IWorkflowEngine> Registered { get; } = engines.ToArray();

    public async Task<IReadOnlyList<AvailableEngine>> GetAvailableAsync(CancellationToken cancellationToken)
    {
        if (Fresh() is { } cached)
        {
            return cached;
        }

        await _probeLock.WaitAsync(cancellationToken);
        try
        {
            // Another caller may have probed while this one waited for the lock.
            if (Fresh() is { } probed)
            {
                return probed;
            }

            _available = await ProbeAsync(cancellationToken);
            _probedAt = clock.GetUtcNow();
            return _available;
        }
        finally
        {
            _probeLock.Release();
        }
    }

    private IReadOnlyList<AvailableEngine>? Fresh() =>
        _available is { } list && (list.Count == Registered.Count || clock.GetUtcNow() - _probedAt < MissingRecheck)
            ? list
            : null;

    public static string? FindOnPath(string executable)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, executable))
            .FirstOrDefault(candidate => File.Exists(candidate) &&
                (OperatingSystem.IsWindows() || (File.GetUnixFileMode(candidate) & UnixFileMode.UserExecute) != 0));
    }

    private async Task<IReadOnlyList<AvailableEngine>> ProbeAsync(CancellationToken cancellationToken)
    {
        var found = new List<AvailableEngine>();
        foreach (var engine in Registered)
        {
            var path = FindOnPath(engine.Executable);
            if (path is null)
            {
                logger.LogWarning("{Engine} not found on PATH; {Hint}", engine.Name, engine.InstallHint);
                continue;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            try
            {
                var version = await engine.ReadVersionAsync(path, timeout.Token);
                if (version is not null)
                {
                    found.Add(new AvailableEngine(engine, version, path));
                    logger.LogInformation("Found {Engine} {Version} at {Path}", engine.Name, version, path);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or System.ComponentModel.Win32Exception or IOException)
            {
                logger.LogWarning(ex, "{Engine} at {Path} did not report its version", engine.Name, path);
            }
        }

        return found;
    }
}
