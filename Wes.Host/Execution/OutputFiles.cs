using System.IO.Enumeration;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Wes.Execution;

/// <summary>One file in a run's outputs folder: its path relative to the folder and its real path on disk.</summary>
public sealed record OutputFile(string RelativePath, string FullPath, long Size, DateTime ModifiedUtc);

/// <summary>The run's outputs folder: what is in it, and the CWL-style objects RunLog.outputs uses for its files.</summary>
public static class OutputFiles
{
    /// <summary>Every file below the folder, ordered by path (see <see cref="OutputWalk"/> for which files count).</summary>
    public static IReadOnlyList<OutputFile> List(string outputsDir) => new OutputWalk(outputsDir).After(null).ToList();

    /// <summary>A CWL-style File (or Directory) object for a path, so every engine's outputs have one shape.</summary>
    public static JsonObject Describe(string path)
    {
        var isDirectory = Directory.Exists(path);
        var described = new JsonObject
        {
            ["class"] = isDirectory ? "Directory" : "File",
            ["location"] = new Uri(path).AbsoluteUri,
            ["path"] = path,
            ["basename"] = Path.GetFileName(path),
        };
        if (!isDirectory)
        {
            described["size"] = new FileInfo(path).Length;
        }

        return described;
    }

    /// <summary>
    /// Moves a file or folder the engine wrote in exe/ to the same relative place in outputs/ (a rename on one disk, so
    /// large outputs cost nothing). Returns its new path, or null when the path is outside exe/ or does not exist.
    /// </summary>
    public static string? MoveIntoOutputs(RunWorkspace workspace, string relativePath)
    {
        var source = workspace.ResolveAttachment(relativePath);
        if (source is null || (!File.Exists(source) && !Directory.Exists(source)) || PathConfinement.Inside(workspace.ExeDir, source) is null)
        {
            return null;
        }

        var target = Path.Combine(workspace.OutputsDir, Path.GetRelativePath(workspace.ExeDir, source));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (Directory.Exists(source))
        {
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }

            Directory.Move(source, target);
        }
        else
        {
            File.Move(source, target, overwrite: true);
        }

        return target;
    }
}

/// <summary>
/// Walks a run's outputs folder lazily, in the ordinal order of the files' paths relative to it, so a page of a listing
/// reads only the folders that page needs. A file counts if it is a regular file with a single link, or a link that
/// resolves to such a file inside the folder. The walk opens no file (a FIFO cannot block it) and never enters a
/// linked folder (a loop of links cannot make it endless).
/// </summary>
public sealed partial class OutputWalk(string outputsDir)
{
    private static readonly EnumerationOptions ReadAll = new()
    {
        // Dot files are outputs too; a folder that cannot be read is left out rather than failing the listing.
        AttributesToSkip = 0,
        IgnoreInaccessible = true,
        RecurseSubdirectories = false,
    };

    /// <summary>How many folder entries this walk has read so far, every folder it entered counted in full.</summary>
    public long EntriesRead { get; private set; }

    /// <summary>The files whose relative path sorts after <paramref name="lastPath"/> (all files when it is null), in order.</summary>
    public IEnumerable<OutputFile> After(string? lastPath)
    {
        var root = SafeFiles.RealFolder(outputsDir);
        if (root is null || Stat(root) is not { Kind: EntryKind.Directory })
        {
            yield break;
        }

        // One queue per folder being walked, ordered by key; a folder's files all sort between its key and the next one.
        var open = new Stack<PriorityQueue<string, string>>([ReadFolder(root, "", lastPath)]);
        while (open.TryPeek(out var folder))
        {
            if (!folder.TryDequeue(out var key, out _))
            {
                open.Pop();
            }
            else if (key.EndsWith('/'))
            {
                // Without the trailing "/", which would make statx follow a link.
                var path = Path.Combine(root, key[..^1]);
                if (Stat(path) is { Kind: EntryKind.Directory })
                {
                    open.Push(ReadFolder(path, key, lastPath));
                }
            }
            else if (Describe(root, key) is { } file)
            {
                yield return file;
            }
        }
    }

    /// <summary>
    /// A folder's entries that can hold a path after <paramref name="lastPath"/>, keyed by relative path with a "/"
    /// after a folder's name. That key makes a depth-first walk follow the order of full paths: "a-b/x" comes before
    /// "a/x" because "a-b/" sorts before "a/", while the bare names "a" and "a-b" would sort the other way round.
    /// </summary>
    private PriorityQueue<string, string> ReadFolder(string folder, string prefix, string? lastPath)
    {
        var keys = new List<(string, string)>();
        try
        {
            // IsDirectory comes from the folder entry itself; only a link is looked at further, and never opened.
            var entries = new FileSystemEnumerable<(string Name, bool IsDirectory)>(
                folder, (ref FileSystemEntry entry) => (entry.FileName.ToString(), entry.IsDirectory), ReadAll);
            foreach (var (name, isDirectory) in entries)
            {
                EntriesRead++;
                var key = prefix + name + (isDirectory ? "/" : "");
                if (lastPath is null || string.CompareOrdinal(key, lastPath) > 0 || (isDirectory && lastPath.StartsWith(key, StringComparison.Ordinal)))
                {
                    keys.Add((key, key));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Removed, replaced or too deep while the walk ran: a folder the walk cannot read has no files to list.
        }

        // Building a heap is linear, so a page of a large flat folder does not pay for sorting all of it.
        return new PriorityQueue<string, string>(keys, StringComparer.Ordinal);
    }

    private static OutputFile? Describe(string root, string relativePath)
    {
        // Resolved for links, and for a folder on the way swapped for a link while the walk ran.
        var real = PathConfinement.Inside(root, Path.Combine(root, relativePath));
        var facts = real is null ? null : Stat(real);

        // A file with other hard links may be any file the server's user can read; it is neither listed nor served.
        return facts is { Kind: EntryKind.Regular, LinkCount: 1 }
            ? new OutputFile(relativePath, real!, facts.Value.Size, facts.Value.ModifiedUtc)
            : null;
    }

    private enum EntryKind { Other, Regular, Directory, Link }

    private readonly record struct EntryFacts(EntryKind Kind, long Size, int LinkCount, DateTime ModifiedUtc);

    private const int AtSymlinkNoFollow = 0x100;
    private const int AtNoAutomount = 0x800;
    private const int StatxBasicStats = 0x07ff;
    private static readonly long EarliestSeconds = (long)(DateTime.MinValue - DateTime.UnixEpoch).TotalSeconds + 1;
    private static readonly long LatestSeconds = (long)(DateTime.MaxValue - DateTime.UnixEpoch).TotalSeconds - 1;

    /// <summary>
    /// What a path is (a final link is not followed), from statx without opening it (a FIFO's open would block), or
    /// null if it is gone.
    /// </summary>
    private static unsafe EntryFacts? Stat(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return StatPortable(path);
        }

        var buffer = stackalloc byte[256];
        if (path.Contains('\0') || Statx(-100, path, AtSymlinkNoFollow | AtNoAutomount, StatxBasicStats, buffer) != 0)
        {
            return null;
        }

        // struct statx: stx_nlink (u32) at 16, stx_mode (u16) at 28, stx_size (u64) at 40, stx_mtime (s64 s, u32 ns) at 112.
        var kind = (*(ushort*)(buffer + 28) & 0xF000) switch
        {
            0x8000 => EntryKind.Regular,
            0x4000 => EntryKind.Directory,
            0xA000 => EntryKind.Link,
            _ => EntryKind.Other,
        };
        // A workflow can set any time; one beyond what DateTime holds is clamped rather than thrown on.
        var seconds = Math.Clamp(*(long*)(buffer + 112), EarliestSeconds, LatestSeconds);
        var modified = DateTime.UnixEpoch.AddTicks(seconds * TimeSpan.TicksPerSecond + *(uint*)(buffer + 120) % 1_000_000_000 / 100);
        return new EntryFacts(kind, *(long*)(buffer + 40), (int)*(uint*)(buffer + 16), modified);
    }

    /// <summary>Elsewhere than Linux, without the link count (taken as one) and without telling FIFOs from files.</summary>
    private static EntryFacts? StatPortable(string path)
    {
        var file = new FileInfo(path);
        return file.LinkTarget is not null ? new EntryFacts(EntryKind.Link, 0, 1, default)
            : Directory.Exists(path) ? new EntryFacts(EntryKind.Directory, 0, 1, default)
            : file.Exists ? new EntryFacts(EntryKind.Regular, file.Length, 1, file.LastWriteTimeUtc)
            : null;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, int mask, byte* buffer);
}
