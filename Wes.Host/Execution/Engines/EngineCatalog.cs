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

            _available = await ProbeAsync(_available ?? [], cancellationToken);
            _probedAt = clock.GetUtcNow();
            return _available;
        }
        finally
        {
            _probeLock.Release();
        }
    }

    /// <summary>Forgets an engine whose program has gone, so the next question looks for it again.</summary>
    public void Forget(IWorkflowEngine engine)
    {
        var current = _available;
        if (current is not null && current.Any(a => a.Engine == engine))
        {
            _available = current.Where(a => a.Engine != engine).ToArray();
            _probedAt = DateTimeOffset.MinValue;
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

    /// <summary>Only the engines not found before are probed, all at once: some take a second to print a version.</summary>
    private async Task<IReadOnlyList<AvailableEngine>> ProbeAsync(IReadOnlyList<AvailableEngine> known, CancellationToken cancellationToken)
    {
        var missing = Registered.Where(engine => known.All(a => a.Engine != engine));
        var probed = await Task.WhenAll(missing.Select(engine => ProbeAsync(engine, cancellationToken)));
        var found = known.Concat(probed.OfType<AvailableEngine>()).ToList();
        // Registration order, so defaults and listings do not depend on which probe answered first.
        return Registered.Select(engine => found.FirstOrDefault(a => a.Engine == engine)).OfType<AvailableEngine>().ToArray();
    }

    private async Task<AvailableEngine?> ProbeAsync(IWorkflowEngine engine, CancellationToken cancellationToken)
    {
        var path = FindOnPath(engine.Executable);
        if (path is null)
        {
            logger.LogWarning("{Engine} not found on PATH; {Hint}", engine.Name, engine.InstallHint);
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            var version = await engine.ReadVersionAsync(path, timeout.Token);
            if (version is not null)
            {
                logger.LogInformation("Found {Engine} {Version} at {Path}", engine.Name, version, path);
                return new AvailableEngine(engine, version, path);
            }

            logger.LogWarning("{Engine} at {Path} did not report its version", engine.Name, path);
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.ComponentModel.Win32Exception or IOException)
        {
            logger.LogWarning(ex, "{Engine} at {Path} did not report its version", engine.Name, path);
        }

        return null;
    }
}
