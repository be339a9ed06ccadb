using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Persistence;

namespace Wes.Execution;

/// <summary>When and what the workspace janitor removes (Wes:Janitor).</summary>
public sealed class JanitorOptions
{
    /// <summary>How long a leftover folder must have been untouched before it is removed.</summary>
    public double GraceSeconds { get; set; } = 3600;

    /// <summary>Least time between two sweeps of the runs folder; the first sweep is at executor start-up.</summary>
    public double IntervalSeconds { get; set; } = 600;
}

/// <summary>
/// Removes what submissions cut short by a crash left in the runs folder: <c>.staging-&lt;run id&gt;</c> folders, and run
/// folders whose run has no row. A submission writes its staging folder, moves it into place and only then commits the
/// row, so a young folder of either kind may belong to a submission still in progress, in this process or another one
/// sharing the folder: only folders untouched for the grace period are removed. Only real folders named like run ids
/// are considered; links are never followed.
/// </summary>
public sealed class WorkspaceJanitor(RunStore store, IOptions<WesOptions> options, TimeProvider clock, ILogger<WorkspaceJanitor> logger)
{
    public const string StagingPrefix = RunWorkspace.StagingPrefix;

    private DateTimeOffset? _lastSweep;

    /// <summary>Sweeps unless the last sweep was less than Wes:Janitor:IntervalSeconds ago. Never throws for a failed sweep.</summary>
    public async Task SweepIfDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (_lastSweep is { } last && now - last < TimeSpan.FromSeconds(options.Value.Janitor.IntervalSeconds))
        {
            return;
        }

        _lastSweep = now;
        try
        {
            await SweepAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A database or disk fault now is no reason to stop reconciling; the next sweep tries again.
            logger.LogWarning(ex, "Sweeping leftover run folders failed");
        }
    }

    /// <summary>Removes every leftover folder older than the grace period; answers how many were removed.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var runsDir = new DirectoryInfo(options.Value.RunsDir);
        if (!runsDir.Exists)
        {
            return 0;
        }

        var cutoff = clock.GetUtcNow().UtcDateTime - TimeSpan.FromSeconds(options.Value.Janitor.GraceSeconds);
        var staging = new List<DirectoryInfo>();
        var runFolders = new List<DirectoryInfo>();
        foreach (var folder in runsDir.EnumerateDirectories())
        {
            var isStaging = folder.Name.StartsWith(StagingPrefix, StringComparison.Ordinal);
            if (!IsRunId(isStaging ? folder.Name[StagingPrefix.Length..] : folder.Name) || IsLink(folder) || !UntouchedSince(folder, cutoff))
            {
                continue;
            }

            (isStaging ? staging : runFolders).Add(folder);
        }

        // Read after the folders were listed: a row committed since then keeps its folder.
        var known = await store.FindExistingRunIdsAsync(runFolders.Select(f => f.Name).ToList(), cancellationToken);
        var removed = 0;
        foreach (var folder in staging.Concat(runFolders.Where(f => !known.Contains(f.Name))))
        {
            removed += Remove(folder, cutoff) ? 1 : 0;
        }

        return removed;
    }

    /// <summary>The run id format of RunSubmitter: a GUID, lower case with hyphens.</summary>
    public static bool IsRunId(string name) =>
        name.Length == 36 && Guid.TryParseExact(name, "D", out var id) && id.ToString("D") == name;

    private bool Remove(DirectoryInfo folder, DateTime cutoff)
    {
        try
        {
            // Checked again just before: another process may have replaced or touched it since the listing.
            folder.Refresh();
            if (!folder.Exists || IsLink(folder) || !UntouchedSince(folder, cutoff))
            {
                return false;
            }

            var lastWrite = folder.LastWriteTimeUtc;
            // Removes links inside the folder, never what they point to.
            folder.Delete(recursive: true);
            logger.LogWarning("Removed {Kind} {Folder}, untouched since {LastWrite:u}, left by a submission that did not finish",
                folder.Name.StartsWith(StagingPrefix, StringComparison.Ordinal) ? "staging folder" : "run folder without a run",
                folder.FullName, lastWrite);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            // Another process sharing the runs folder removed it first.
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not remove the leftover folder {Folder}", folder.FullName);
            return false;
        }
    }

    private static bool IsLink(FileSystemInfo entry) => entry.LinkTarget is not null;

    /// <summary>
    /// The folder and its direct subfolders all last changed before the cutoff: attachments land in exe/ while the
    /// staging folder's own time stays at its creation.
    /// </summary>
    private static bool UntouchedSince(DirectoryInfo folder, DateTime cutoff)
    {
        try
        {
            return folder.LastWriteTimeUtc < cutoff &&
                folder.EnumerateDirectories().All(child => IsLink(child) || child.LastWriteTimeUtc < cutoff);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Removed or replaced meanwhile (by another process sharing the runs folder): not this sweep's to touch.
            return false;
        }
    }
}
