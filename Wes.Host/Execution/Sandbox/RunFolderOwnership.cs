namespace Wes.Execution.Sandbox;

/// <summary>
/// Hands a run's working folders to the engine user before the engine starts. The run's own folder stays the
/// server's (its request, logs and task links are not the engine's to change); it only becomes passable.
/// </summary>
public static class RunFolderOwnership
{
    public static void GiveTo(EngineUser user, RunWorkspace workspace)
    {
        // bwrap runs as the engine user, so it must reach the run's folder by path.
        var root = workspace.Root;
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        File.SetUnixFileMode(root, File.GetUnixFileMode(root) | UnixFileMode.OtherExecute);
        for (var folder = Path.GetDirectoryName(root); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            if (!user.CanTraverse(folder))
            {
                throw new SandboxUnavailableException(
                    $"The engine user {user} cannot pass through {folder} to reach the run folders; " +
                    $"make it passable (chmod o+x {folder}) or move the data directory (WES_DATA_DIR).");
            }
        }

        foreach (var folder in SandboxMounts.WritableFolders(workspace))
        {
            GiveTree(user, new DirectoryInfo(folder));
        }
    }

    /// <summary>
    /// Every entry below <paramref name="folder"/>, without following links (a link is handed over itself, never what it
    /// points at). A file with several hard links is left alone: another of its names may lie outside the run.
    /// </summary>
    private static void GiveTree(EngineUser user, DirectoryInfo folder)
    {
        user.Own(folder.FullName);
        foreach (var entry in folder.EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is null && entry is DirectoryInfo directory)
            {
                GiveTree(user, directory);
            }
            else if (entry.LinkTarget is not null || EngineUser.LinkCount(entry.FullName) == 1)
            {
                user.Own(entry.FullName);
            }
        }
    }
}
