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
    /// Opens <paramref name="relativePath"/> below <paramref name="folder"/> for reading, or returns null if it does not
    /// exist or is reached through a link. The check is made on the open file itself, so it cannot be raced.
    /// </summary>
    public static FileStream? OpenReadInside(string folder, string relativePath)
    {
        var path = Path.Combine(folder, relativePath);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return null;
        }

        var expected = PathConfinement.RealPath(folder) is { } root ? Path.Combine(root, relativePath) : null;
        var opened = HasProcFd
            ? new FileInfo($"/proc/self/fd/{stream.SafeFileHandle.DangerousGetHandle()}").LinkTarget
            : PathConfinement.RealPath(path);
        if (expected is not null && opened == expected)
        {
            return stream;
        }

        stream.Dispose();
        return null;
    }
}
