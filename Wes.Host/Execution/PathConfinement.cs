using System.Runtime.InteropServices;

namespace Wes.Execution;

/// <summary>
/// Decides whether a path really lies inside a folder: every link on the way is resolved first (by the C library's
/// realpath), so neither "..", nor a symbolic link, nor a link to a parent folder can lead out of it.
/// </summary>
public static partial class PathConfinement
{
    /// <summary>The path with every link and "." or ".." resolved, or null if it does not exist.</summary>
    public static unsafe string? RealPath(string path)
    {
        if (path.Contains('\0'))
        {
            return null;
        }

        var buffer = stackalloc byte[4097];
        return ResolvePath(path, buffer) == 0 ? null : Marshal.PtrToStringUTF8((nint)buffer);
    }

    /// <summary>The real path of <paramref name="path"/> if it exists and lies inside <paramref name="folder"/>, else null.</summary>
    public static string? Inside(string folder, string path)
    {
        var root = RealPath(folder);
        var real = RealPath(path);
        return root is not null && real is not null && IsUnder(root, real) ? real : null;
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="folder"/> itself or below it (both already real).</summary>
    public static bool IsUnder(string folder, string path) =>
        path == folder || path.StartsWith(folder.TrimEnd('/') + "/", StringComparison.Ordinal);

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial nint ResolvePath(string path, byte* resolved);
}
