using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Persistence;

/// <summary>Free space on the data volume fell below WES_MIN_FREE_DISK_MB.</summary>
public sealed record DiskShortage(long FreeBytes, long MinimumBytes)
{
    public string Describe() =>
        $"the data volume has {FreeBytes / (1024 * 1024)} MB free, less than the {MinimumBytes / (1024 * 1024)} MB WES_MIN_FREE_DISK_MB asks for";
}

/// <summary>
/// Watches free space on the data volume (statvfs on the data folder), read at most once a second however many
/// requests ask. While it is short, submissions are refused and queued runs wait; nothing already queued is lost.
/// </summary>
public sealed class DiskGuard(IOptions<WesOptions> options, TimeProvider clock, ILogger<DiskGuard> logger)
{
    private static readonly TimeSpan ReadEvery = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;
    private long? _freeBytes;
    private bool _wasShort;

    public long MinimumBytes => options.Value.MinFreeDiskMb * 1024 * 1024;

    /// <summary>The shortage, or null when there is enough space, the guard is off, or the volume cannot be read.</summary>
    public DiskShortage? Shortage()
    {
        if (MinimumBytes <= 0 || FreeBytes() is not { } free)
        {
            return null;
        }

        var shortage = free < MinimumBytes ? new DiskShortage(free, MinimumBytes) : null;
        lock (_gate)
        {
            if (_wasShort != shortage is not null)
            {
                _wasShort = shortage is not null;
                if (shortage is null)
                {
                    logger.LogInformation("Disk space is back above WES_MIN_FREE_DISK_MB; submissions and queued runs go ahead");
                }
                else
                {
                    logger.LogWarning("Low disk space: {Shortage}; submissions are refused and queued runs wait", shortage.Describe());
                }
            }
        }

        return shortage;
    }

    /// <summary>Free bytes on the data volume for an unprivileged writer, cached for a second; null if it cannot be read.</summary>
    public long? FreeBytes()
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (now - _readAt < ReadEvery)
            {
                return _freeBytes;
            }

            _readAt = now;
            _freeBytes = ReadFreeBytes(options.Value.ResolvedDataDir);
            return _freeBytes;
        }
    }

    /// <summary>Free bytes on the volume holding <paramref name="dataDir"/> (or its nearest existing parent); null when the file system gives no figure.</summary>
    internal static long? ReadFreeBytes(string dataDir)
    {
        // The data folder may not exist yet (PostgreSQL, before the first run): its nearest existing parent is on the same volume.
        var folder = new DirectoryInfo(dataDir);
        while (folder is { Exists: false, Parent: not null })
        {
            folder = folder.Parent;
        }

        try
        {
            return new DriveInfo(folder.FullName).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
