using System.Runtime.InteropServices;

namespace Wes.Persistence;

/// <summary>
/// Makes everything written to one file system durable at once. On Linux this is syncfs(2): one call covers every file
/// written and every rename made on it, where flushing each file would cost one disk flush per file. Elsewhere each
/// file must be flushed as it is written (<see cref="FlushEachFile"/>).
/// </summary>
public static partial class FileSystemSync
{
    // O_RDONLY: enough to open a folder, and the same value on every Linux architecture (O_DIRECTORY is not).
    private const int ReadOnly = 0;

    /// <summary>Whether writers must flush every file themselves, because <see cref="SyncAsync"/> cannot.</summary>
    public static bool FlushEachFile => !OperatingSystem.IsLinux();

    /// <summary>
    /// Flushes the file system holding <paramref name="folder"/> to disk. A failure is an IOException carrying the errno
    /// (ENOSPC, EIO, ...), so a full disk is told apart from other faults like any other write's.
    /// </summary>
    public static Task SyncAsync(string folder, CancellationToken cancellationToken)
    {
        if (FlushEachFile)
        {
            return Task.CompletedTask;
        }

        // syncfs blocks until the disk has the data: off the caller's thread.
        return Task.Run(() => Sync(folder), cancellationToken);
    }

    private static void Sync(string folder)
    {
        var fd = Open(folder, ReadOnly);
        if (fd < 0)
        {
            throw Failure("open", folder);
        }

        try
        {
            if (SyncFs(fd) != 0)
            {
                throw Failure("syncfs", folder);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static IOException Failure(string call, string folder)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} of {folder} failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
