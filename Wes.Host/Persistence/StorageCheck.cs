using Microsoft.Data.Sqlite;
using Wes.Configuration;

namespace Wes.Persistence;

/// <summary>
/// Checked before the server serves or executes anything: the data and runs folders can be written and their disk is
/// not full and, for SQLite, the database file and its -wal and -shm files can be written. SQLite maps the -shm file
/// into memory; a process that went on with one it cannot write would fail on its first write, or die of SIGBUS if
/// the file were cut short under it. One line naming the file and what to do is better than either.
/// </summary>
public static class StorageCheck
{
    /// <summary>Below this the SQLite WAL cannot grow and no submission can be staged: the disk counts as full.</summary>
    public const long MinFreeBytes = 1024 * 1024;

    private const string WriteProbePrefix = ".wes-write-check-";
    private const string MakeWritable = "Make it writable by the server's user (check its owner and mode with ls -l, immutable attributes with lsattr)";

    /// <summary>The first problem found, as one line naming the file and what to do; null when the storage is usable.</summary>
    public static string? FindProblem(WesOptions options) =>
        FolderProblem(options.ResolvedDataDir, "data folder (WES_DATA_DIR)")
        ?? FolderProblem(options.RunsDir, "runs folder")
        ?? (options.DatabaseKind == DatabaseKind.Sqlite ? SqliteProblem(options.ConnectionString, options.ResolvedDataDir) : null);

    private static string? SqliteProblem(string connectionString, string dataDir)
    {
        SqliteConnectionStringBuilder settings;
        try
        {
            settings = new SqliteConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            // A malformed connection string is reported by the first connection, with the driver's own message.
            return null;
        }

        var source = settings.DataSource;
        if (settings.Mode is SqliteOpenMode.Memory or SqliteOpenMode.ReadOnly || source.Length == 0 || source == ":memory:" ||
            source.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var database = Path.GetFullPath(source);
        var folder = Path.GetDirectoryName(database)!;
        // SQLite creates the -wal and -shm files beside the database, so its folder must be writable as well.
        return (folder == dataDir ? null : FolderProblem(folder, "database folder"))
            ?? FileProblem(database, "SQLite database", $"{MakeWritable}, then start again.")
            ?? FileProblem(database + "-wal", "SQLite write-ahead log",
                $"{MakeWritable}, then start again; do not delete it, it holds committed changes.")
            ?? FileProblem(database + "-shm", "SQLite shared-memory file",
                $"{MakeWritable}, or stop every process using this database and delete it (SQLite rebuilds it); then start again.");
    }

    private static string? FolderProblem(string folder, string what)
    {
        var probe = Path.Combine(folder, WriteProbePrefix + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(folder);
            // A byte, not an empty file: a full disk still has room for a name, not for data.
            using (var file = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
            {
                file.WriteByte(0);
                file.Flush(flushToDisk: true);
            }

            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(probe);
            return StorageFaults.IsOutOfSpace(ex)
                ? Full(folder, what, 0)
                : $"Cannot start: the {what} {folder} cannot be written ({Reason(ex)}). Make it writable by the server's user (check its owner and mode with ls -ld, immutable attributes with lsattr, and whether its file system is mounted read-only), then start again.";
        }

        var free = DiskGuard.ReadFreeBytes(folder);
        return free < MinFreeBytes ? Full(folder, what, free.Value) : null;
    }

    private static string? FileProblem(string path, string what, string whatToDo)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            // Opened and closed before any connection of this process exists, so no SQLite lock is released by it.
            using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"Cannot start: the {what} {path} cannot be written ({Reason(ex)}). {whatToDo}";
        }
    }

    private static string Full(string folder, string what, long free) =>
        $"Cannot start: the disk holding the {what} {folder} is full ({free} bytes free, at least {MinFreeBytes} needed). Free space on it, then start again.";

    private static string Reason(Exception ex) => ex switch
    {
        UnauthorizedAccessException => "permission denied, or the file is immutable",
        IOException { HResult: 30 } => "read-only file system",
        _ => ex.Message,
    };

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: the problem that stops the start is reported instead.
        }
    }
}
