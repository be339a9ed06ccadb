using System.Text.Json.Nodes;

namespace Wes.Execution;

/// <summary>One file in a run's outputs folder: its path relative to the folder and its real path on disk.</summary>
public sealed record OutputFile(string RelativePath, string FullPath, long Size, DateTime ModifiedUtc);

/// <summary>The run's outputs folder: what is in it, and the CWL-style objects RunLog.outputs uses for its files.</summary>
public static class OutputFiles
{
    /// <summary>
    /// Every file below the folder, ordered by path. A link counts only if it resolves to a file inside the folder;
    /// linked folders are not followed, so a loop of links cannot make the walk endless.
    /// </summary>
    public static IReadOnlyList<OutputFile> List(string outputsDir)
    {
        var root = PathConfinement.RealPath(outputsDir);
        var found = new List<OutputFile>();
        if (root is null || !Directory.Exists(root))
        {
            return found;
        }

        var pending = new Stack<string>([root]);
        while (pending.TryPop(out var dir))
        {
            foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
            {
                if (entry.LinkTarget is null && entry is DirectoryInfo)
                {
                    pending.Push(entry.FullName);
                }
                else if (PathConfinement.Inside(root, entry.FullName) is { } real && File.Exists(real))
                {
                    var info = new FileInfo(real);
                    found.Add(new OutputFile(Path.GetRelativePath(root, entry.FullName).Replace('\\', '/'), real, info.Length, info.LastWriteTimeUtc));
                }
            }
        }

        found.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return found;
    }

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
