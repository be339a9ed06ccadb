namespace Wes.Cli.Submission;

/// <summary>A local file to attach and the relative path (with '/') that the server stores it under.</summary>
public sealed record Attachment(string LocalPath, string Name);

/// <summary>Which files go up as workflow_attachment parts, and the workflow_url that names the workflow among them.</summary>
public static class Attachments
{
    /// <summary>
    /// With --dir: every file under the folder (hidden folders such as .git left out) and the workflow's path inside it.
    /// Otherwise: the workflow plus each --attach path (a folder brings its files), named relative to the workflow's folder.
    /// </summary>
    public static (IReadOnlyList<Attachment> Files, string WorkflowUrl) Collect(string workflow, string? folder, IReadOnlyList<string> attach)
    {
        if (!File.Exists(workflow))
        {
            throw new CliUsageException($"The workflow file '{workflow}' does not exist.");
        }

        var root = Path.GetFullPath(folder ?? Path.GetDirectoryName(Path.GetFullPath(workflow))!);
        if (folder is not null && !Directory.Exists(root))
        {
            throw new CliUsageException($"--dir '{folder}' is not a folder.");
        }

        var workflowName = RelativeName(root, workflow, folder is null ? "the workflow" : "--dir");
        var files = new Dictionary<string, Attachment>(StringComparer.Ordinal);
        void Add(string path, string option)
        {
            var name = RelativeName(root, path, option);
            files.TryAdd(name, new Attachment(Path.GetFullPath(path), name));
        }

        Add(workflow, "the workflow");
        var sources = folder is not null ? [folder] : attach;
        foreach (var source in sources)
        {
            if (Directory.Exists(source))
            {
                foreach (var file in FilesUnder(source))
                {
                    Add(file, "--attach");
                }
            }
            else if (File.Exists(source))
            {
                Add(source, "--attach");
            }
            else
            {
                throw new CliUsageException($"--attach '{source}' does not exist.");
            }
        }

        return (files.Values.OrderBy(f => f.Name, StringComparer.Ordinal).ToList(), workflowName);
    }

    private static IEnumerable<string> FilesUnder(string folder)
    {
        // Hidden entries (names starting with '.': .git, .snakemake) are tools' own state, not part of the workflow.
        var options = new EnumerationOptions { AttributesToSkip = FileAttributes.Hidden, IgnoreInaccessible = false };
        foreach (var file in Directory.EnumerateFiles(folder, "*", options).Order(StringComparer.Ordinal))
        {
            yield return file;
        }

        foreach (var sub in Directory.EnumerateDirectories(folder, "*", options).Order(StringComparer.Ordinal))
        {
            foreach (var file in FilesUnder(sub))
            {
                yield return file;
            }
        }
    }

    private static string RelativeName(string root, string path, string option)
    {
        var relative = Path.GetRelativePath(root, Path.GetFullPath(path));
        if (relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            throw new CliUsageException($"{option}: '{path}' is outside '{root}'; attachments are named by their path inside it.");
        }

        return relative.Replace(Path.DirectorySeparatorChar, '/');
    }
}
