using System.Runtime.InteropServices;

namespace Wes.Execution.Sandbox;

/// <summary>
/// The file system an engine sees, as bwrap mount options: the host read-only, minus the folders and files it must
/// not see, plus the run's own folders. Mounts are applied in order of depth, so the most specific rule wins: an input
/// root inside a hidden folder is visible again, a hidden folder inside an input root stays hidden, and the run's
/// folders are bound over whatever lies above them (the data directory, /tmp).
/// </summary>
public static partial class SandboxMounts
{
    private enum Kind
    {
        // At equal paths the later kind wins: a hidden folder over an input root, the run over both.
        ReadOnly,
        HiddenFolder,
        HiddenFile,
        PrivateTmp,
        RunReadOnly,
        Writable,
    }

    private sealed record Mount(string Path, Kind Kind);

    /// <summary>The folders of a run an engine writes to; everything else in the run's folder it may only read.</summary>
    public static IReadOnlyList<string> WritableFolders(RunWorkspace workspace) =>
        [workspace.ExeDir, workspace.OutputsDir, workspace.TmpDir, workspace.EngineDir];

    /// <param name="hiddenFolders">Folders shown empty (they must exist to be hidden; others are skipped).</param>
    /// <param name="hiddenFiles">Files shown empty.</param>
    /// <param name="readOnly">Folders shown read-only even inside a hidden folder: input roots, the engine's install.</param>
    public static IReadOnlyList<string> Arguments(
        RunWorkspace workspace, IEnumerable<string> hiddenFolders, IEnumerable<string> hiddenFiles, IEnumerable<string> readOnly)
    {
        var mounts = new List<Mount> { new("/tmp", Kind.PrivateTmp) };
        // "/" cannot be hidden, and /tmp already is: both are left alone.
        var hidden = hiddenFolders.Select(Canonical).OfType<string>().Where(Directory.Exists).Where(p => p is not "/" and not "/tmp").Distinct().ToList();
        mounts.AddRange(hidden.Select(p => new Mount(p, Kind.HiddenFolder)));
        mounts.AddRange(hiddenFiles.Select(Canonical).OfType<string>().Where(File.Exists).Distinct().Select(p => new Mount(p, Kind.HiddenFile)));
        mounts.AddRange(readOnly.Select(Canonical).OfType<string>().Where(p => p != "/").Distinct().Select(p => new Mount(p, Kind.ReadOnly)));
        // The run's folders are never resolved: a link there would be followed by bwrap, and the run makes sure none is.
        var root = Canonical(workspace.Root) ?? workspace.Root;
        mounts.Add(new Mount(root, Kind.RunReadOnly));
        mounts.AddRange(WritableFolders(workspace).Select(p => new Mount(Path.Combine(root, Path.GetFileName(p)), Kind.Writable)));

        var arguments = new List<string> { "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc" };
        foreach (var mount in mounts.OrderBy(m => Depth(m.Path)).ThenBy(m => m.Kind))
        {
            arguments.AddRange(mount.Kind switch
            {
                Kind.ReadOnly or Kind.RunReadOnly => ["--ro-bind", mount.Path, mount.Path],
                Kind.Writable => ["--bind", mount.Path, mount.Path],
                Kind.HiddenFile => ["--ro-bind", "/dev/null", mount.Path],
                _ => ["--tmpfs", mount.Path],
            });
        }

        // Made read-only last: bwrap creates the mount points of the binds inside them first.
        foreach (var folder in hidden)
        {
            arguments.AddRange(["--remount-ro", folder]);
        }

        return arguments;
    }

    /// <summary>
    /// The folder holding an engine's installation when its program lies in a hidden folder (a `pip install --user` or
    /// pyenv under the server's home): the program's folder's parent (~/.local for ~/.local/bin/cwltool), or the program's
    /// own folder if that parent is the hidden folder itself. Null when the program is visible anyway.
    /// </summary>
    public static string? InstallFolder(string program, IEnumerable<string> hiddenFolders)
    {
        var path = Canonical(program) ?? program;
        var inside = hiddenFolders.Select(Canonical).OfType<string>().Where(h => IsInside(path, h)).OrderByDescending(Depth).FirstOrDefault();
        if (inside is null)
        {
            return null;
        }

        var folder = Path.GetDirectoryName(path)!;
        var parent = Path.GetDirectoryName(folder);
        return parent is not null && IsInside(parent, inside) ? parent : folder;
    }

    /// <summary>The interpreter named by a script's "#!" line (through /usr/bin/env too), so it can be made visible with the script.</summary>
    public static string? Interpreter(string program)
    {
        try
        {
            using var file = new FileStream(program, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            var head = new byte[256];
            var read = file.Read(head);
            var line = System.Text.Encoding.UTF8.GetString(head, 0, read).Split('\n')[0];
            if (!line.StartsWith("#!", StringComparison.Ordinal))
            {
                return null;
            }

            var words = line[2..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return words switch
            {
                [var env, var name, ..] when Path.GetFileName(env) == "env" => Engines.EngineCatalog.FindOnPath(name),
                [var interpreter, ..] => interpreter,
                _ => null,
            };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The path with every link resolved (mounts are made on real paths), or null if it does not exist.</summary>
    public static string? Canonical(string path)
    {
        var resolved = ResolvePath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }

    public static bool IsInside(string path, string folder) =>
        path.StartsWith(folder.TrimEnd('/') + "/", StringComparison.Ordinal) && path.Length > folder.TrimEnd('/').Length + 1;

    private static int Depth(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries).Length;

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr ResolvePath(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(IntPtr pointer);
}
