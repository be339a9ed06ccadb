namespace Wes.Execution;

/// <summary>
/// File access inside run directories that never follows a symbolic link planted there: an engine runs the user's
/// workflow with write access to its run directory, so any entry in it may have been replaced by a link.
/// </summary>
public static class SafeFiles
{
    private static readonly bool HasProcFd = Directory.Exists("/proc/self/fd");

    /// <summary>Creates the file afresh: an existing file or link at the path is removed, never written through.</summary>
    public static FileStream CreateNew(string path, int bufferSize = 81920)
    {
        File.Delete(path);
        return new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize, useAsync: true);
    }

    /// <summary>Writes <paramref name="text"/> to a file created afresh (see <see cref="CreateNew"/>).</summary>
    public static async Task WriteTextAsync(string path, string text, CancellationToken cancellationToken)
    {
        await using var file = CreateNew(path);
        await file.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), cancellationToken);
    }

    /// <summary>
    /// Copies <paramref name="source"/> into a file created afresh (see <see cref="CreateNew"/>), at most
    /// <paramref name="maxBytes"/>; answers the bytes written and whether the source had more (one byte is read past
    /// the cap to tell). Each read must return within <paramref name="readTimeout"/>: a large copy may take long, a
    /// source that sends nothing for that long is stalled.
    /// </summary>
    public static async Task<(long Bytes, bool Cut)> CopyCappedAsync(
        Stream source, string target, long maxBytes, TimeSpan readTimeout, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var file = CreateNew(target);
        var buffer = new byte[81920];
        long total = 0;
        while (total < maxBytes)
        {
            idle.CancelAfter(readTimeout);
            var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, maxBytes - total)), idle.Token);
            if (read == 0)
            {
                return (total, false);
            }

            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            total += read;
        }

        idle.CancelAfter(readTimeout);
        return (total, await source.ReadAsync(buffer.AsMemory(0, 1), idle.Token) > 0);
    }

    /// <summary>
    /// Opens <paramref name="relativePath"/> below <paramref name="folder"/> for reading without following any link on
    /// the way; <paramref name="refusal"/> says why nothing was opened. The checks are made on the open descriptor
    /// itself, so swapping the file after the check cannot change what is read.
    /// </summary>
    public static FileStream? OpenReadInside(string folder, string relativePath, out FileRefusal refusal)
    {
        var path = Path.Combine(folder, relativePath);
        var expected = PathConfinement.RealPath(folder) is { } root ? Path.Combine(root, relativePath) : null;
        return OpenChecked(path, opened => expected is not null && opened == expected, out refusal);
    }

    /// <summary>
    /// Opens <paramref name="path"/> with its links resolved, if the file it leads to is a regular file with a single
    /// link inside <paramref name="folder"/>; <paramref name="refusal"/> says why nothing was opened. Whatever a link
    /// points at, only a file whose open descriptor lies inside the folder is returned.
    /// </summary>
    public static FileStream? OpenReadResolvedInside(string folder, string path, out FileRefusal refusal)
    {
        var root = RealFolder(folder);
        var real = PathConfinement.RealPath(path);
        if (root is null || real is null)
        {
            refusal = FileRefusal.Missing;
            return null;
        }

        if (!PathConfinement.IsUnder(root, real))
        {
            refusal = FileRefusal.Outside;
            return null;
        }

        // realpath left no link in the path, so a link found on opening it was planted since: refused as outside.
        return OpenChecked(real, opened => opened is not null && PathConfinement.IsUnder(root, opened), out refusal);
    }

    /// <summary>
    /// The real path of <paramref name="folder"/> if its own name is not a link (the folders above it may be), else
    /// null: a workflow that can write in a run directory could replace its outputs folder by a link to anywhere.
    /// </summary>
    public static string? RealFolder(string folder)
    {
        var real = PathConfinement.RealPath(folder);
        var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(folder));
        // Equal only if the name was no link when resolved; one swapped in later is caught where each file is checked.
        return real is not null && parent is not null && PathConfinement.RealPath(parent) is { } realParent &&
            real == Path.Combine(realParent, Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)))
            ? real
            : null;
    }

    private static FileStream? OpenChecked(string path, Func<string?, bool> isAllowed, out FileRefusal refusal)
    {
        // Never a plain open: a FIFO would block it (and the thread) until some process writes to it.
        var stream = RegularFile.TryOpen(path, out var facts);
        if (stream is null)
        {
            refusal = WhyNotOpened(path);
            return null;
        }

        var opened = HasProcFd
            ? new FileInfo($"/proc/self/fd/{stream.SafeFileHandle.DangerousGetHandle()}").LinkTarget
            : PathConfinement.RealPath(path);
        refusal = !isAllowed(opened) ? FileRefusal.Outside
            // A second name may be a file the server's user can read but no client should get (the database, another
            // run's files, a system file): whatever can write in the run folder can link one there.
            : facts is { LinkCount: > 1 } ? FileRefusal.HardLinked
            : FileRefusal.None;
        if (refusal == FileRefusal.None)
        {
            return stream;
        }

        stream.Dispose();
        return null;
    }

    /// <summary>Why a path did not open as a regular file; only for the message, as the path may change meanwhile.</summary>
    private static FileRefusal WhyNotOpened(string path)
    {
        var entry = new FileInfo(path);
        return entry.LinkTarget is not null ? FileRefusal.Outside
            : entry.Exists || Directory.Exists(path) ? FileRefusal.NotRegular
            : FileRefusal.Missing;
    }
}

/// <summary>Why a file of a run directory was not opened for reading.</summary>
public enum FileRefusal
{
    None,

    /// <summary>Nothing is there.</summary>
    Missing,

    /// <summary>A link, or a file that lies outside the folder it must be in.</summary>
    Outside,

    /// <summary>A FIFO, socket, device or folder.</summary>
    NotRegular,

    /// <summary>A regular file with more than one name (hard link); it may be any file the server's user can read.</summary>
    HardLinked,
}
