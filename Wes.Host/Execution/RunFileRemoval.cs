namespace Wes.Execution;

/// <summary>
/// Removes what an ended run no longer needs, without following any link its workflow may have planted in the run
/// folder: a link is removed itself, never what it points to.
/// </summary>
public static class RunFileRemoval
{
    /// <summary>The run folder's entries that are its logs: the engine's stdout/stderr, earlier attempts' logs, task logs.</summary>
    private static readonly HashSet<string> LogEntries = new(StringComparer.Ordinal) { "stdout.log", "stderr.log", "attempts", "tasks" };

    /// <summary>
    /// Scratch space and engine caches, removed as soon as a run has ended: nothing the API serves reads them once
    /// the task logs that live there are copied out (Nextflow keeps them in tmp/work).
    /// </summary>
    public static void RemoveScratch(RunWorkspace workspace)
    {
        string[] scratch =
        [
            workspace.TmpDir,
            Path.Combine(workspace.EngineDir, "jobstore"),
            Path.Combine(workspace.ExeDir, ".snakemake"),
            Path.Combine(workspace.ExeDir, ".nextflow"),
        ];
        // Only logs that live in what goes are copied: Snakemake's, in exe/, stay where they are. A scratch path the
        // workflow replaced by a link (exe/.nextflow -> another run's folder) is not scratch: were its target counted,
        // outputs linking there would be moved into this run. Only a path that resolves to itself under the run is.
        var realRoot = PathConfinement.RealPath(workspace.Root);
        var going = realRoot is null ? [] : scratch
            .Where(path => PathConfinement.RealPath(path) is { } real
                && real == Path.Combine(realRoot, Path.GetRelativePath(workspace.Root, path)))
            .Select(path => Path.Combine(realRoot, Path.GetRelativePath(workspace.Root, path)))
            .ToList();
        bool IsGoing(string target) => going.Any(folder => PathConfinement.IsUnder(folder, target));
        KeepTaskLogs(workspace, IsGoing);
        KeepLinkedOutputs(workspace, IsGoing);
        foreach (var path in scratch)
        {
            Remove(new DirectoryInfo(path));
        }
    }

    /// <summary>
    /// Removes every file of the run, except its logs when <paramref name="keepLogs"/> is set. A run folder that is
    /// missing is already clean; one that is a link is refused (it was not made by this server).
    /// </summary>
    public static void RemoveRun(RunWorkspace workspace, bool keepLogs)
    {
        var root = new DirectoryInfo(workspace.Root);
        if (!root.Exists && root.LinkTarget is null)
        {
            return;
        }

        if (root.LinkTarget is not null)
        {
            throw new IOException($"The run folder {root.FullName} is a link; it is left as it is.");
        }

        if (!keepLogs)
        {
            Remove(root);
            return;
        }

        KeepTaskLogs(workspace, _ => true);
        foreach (var entry in root.EnumerateFileSystemInfos().Where(entry => !LogEntries.Contains(entry.Name)))
        {
            Remove(entry);
        }
    }

    /// <summary>
    /// Replaces each task log link by a copy of the file it leads to, so the log outlives the engine folder it was in.
    /// A link that leads out of the run folder (or nowhere) is removed instead, and its target is left alone. Only
    /// links whose target (its real path) <paramref name="isGoing"/> says is about to be removed are touched.
    /// </summary>
    public static void KeepTaskLogs(RunWorkspace workspace, Func<string, bool> isGoing)
    {
        var tasks = new DirectoryInfo(workspace.TasksDir);
        if (!tasks.Exists || tasks.LinkTarget is not null)
        {
            return;
        }

        foreach (var link in tasks.EnumerateDirectories().Where(folder => folder.LinkTarget is null)
                     .SelectMany(folder => folder.EnumerateFiles()).Where(file => file.LinkTarget is not null))
        {
            if (PathConfinement.RealPath(link.FullName) is { } target && !isGoing(target))
            {
                continue;
            }

            // A name of its own: another executor sweeping the same run may be copying the same log.
            var copy = $"{link.FullName}.kept-{Guid.NewGuid():N}";
            try
            {
                CopyOver(workspace, link.FullName, copy);
            }
            catch (IOException) when (new FileInfo(link.FullName).LinkTarget is null)
            {
                // Replaced by a copy, or removed, by that other sweep meanwhile: the log is kept either way.
            }
            finally
            {
                File.Delete(copy);
            }
        }
    }

    /// <summary>
    /// Moves into place the outputs that are links into a folder about to go (Nextflow publishes by linking into its
    /// work folder unless told to copy): a rename on one disk, so large outputs cost nothing.
    /// </summary>
    private static void KeepLinkedOutputs(RunWorkspace workspace, Func<string, bool> isGoing)
    {
        var outputs = new DirectoryInfo(workspace.OutputsDir);
        if (!outputs.Exists || outputs.LinkTarget is not null)
        {
            return;
        }

        // Linked folders are not entered: only the links themselves are looked at.
        var links = outputs.EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(entry => entry.LinkTarget is not null).ToList();
        foreach (var link in links)
        {
            if (PathConfinement.RealPath(link.FullName) is not { } target || !isGoing(target))
            {
                continue;
            }

            File.Delete(link.FullName);
            if (Directory.Exists(target))
            {
                Directory.Move(target, link.FullName);
            }
            else
            {
                File.Move(target, link.FullName);
            }
        }
    }

    private static void CopyOver(RunWorkspace workspace, string link, string copy)
    {
        using (var source = SafeFiles.OpenReadResolvedInside(workspace.Root, link, out _))
        {
            if (source is null)
            {
                File.Delete(link);
                return;
            }

            using var target = SafeFiles.CreateNew(copy);
            source.CopyTo(target);
        }

        // rename(2) replaces the link itself, never the file it pointed to.
        File.Move(copy, link, overwrite: true);
    }

    /// <summary>
    /// Removes one entry; a link only as a link. Gone already counts as done. Another executor may be deleting the same
    /// tree at the same moment (so a folder is briefly "not empty"): a second pass finishes what the first could not.
    /// </summary>
    private static void Remove(FileSystemInfo entry)
    {
        for (var pass = 1; ; pass++)
        {
            try
            {
                if (entry.LinkTarget is not null || entry is FileInfo)
                {
                    File.Delete(entry.FullName);
                }
                else if (Directory.Exists(entry.FullName))
                {
                    // Recursive deletion removes the links it meets inside and never descends through them.
                    Directory.Delete(entry.FullName, recursive: true);
                }

                return;
            }
            catch (IOException) when (!Path.Exists(entry.FullName))
            {
                return;
            }
            catch (IOException) when (pass == 1)
            {
                entry.Refresh();
            }
        }
    }
}
