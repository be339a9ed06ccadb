using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Wes.Tests.Support;

/// <summary>
/// A real, small disk: a tmpfs of a few megabytes mounted on a fresh folder, to be filled for disk-full tests. Mounting
/// needs root (CI runs as root); without it the constructor fails with a message that says so. Tests that use it
/// belong to <see cref="SmallDiskCollection"/>.
/// </summary>
public sealed class SmallDisk : IDisposable
{
    private const string FillerName = "filler";

    public SmallDisk(int megabytes = 20)
    {
        Root = TempDirectory.Create("wes-small-disk");
        var (exit, output) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0755", "tmpfs", Root);
        if (exit != 0)
        {
            TempDirectory.Delete(Root);
            throw new InvalidOperationException(
                $"SmallDisk mounts a {megabytes} MiB tmpfs, which needs root (user '{Environment.UserName}'): mount exited {exit}: {output}");
        }
    }

    /// <summary>The mount point: everything under it shares the small disk.</summary>
    public string Root { get; }

    public long FreeBytes => new DriveInfo(Root).AvailableFreeSpace;

    /// <summary>Writes a file until the disk refuses more, so not one more data page fits.</summary>
    public void Fill()
    {
        using var filler = new FileStream(Path.Combine(Root, FillerName), FileMode.Append, FileAccess.Write, FileShare.None, bufferSize: 0);
        foreach (var chunk in new[] { 1 << 20, 4096 })
        {
            var bytes = new byte[chunk];
            try
            {
                while (true)
                {
                    filler.Write(bytes);
                }
            }
            catch (IOException ex) when (ex.HResult == 28)
            {
                // Full at this chunk size; smaller chunks fill the rest.
            }
        }

        Assert.Equal(0, FreeBytes);
    }

    /// <summary>Deletes what <see cref="Fill"/> wrote.</summary>
    public void Free() => File.Delete(Path.Combine(Root, FillerName));

    /// <summary>
    /// Sets or clears the immutable attribute (chattr +i), which refuses writes even to root, as chmod does not.
    /// Unmounting the disk discards the file, attribute and all.
    /// </summary>
    public static void SetImmutable(string path, bool immutable)
    {
        var (exit, output) = Run("chattr", immutable ? "+i" : "-i", path);
        Assert.True(exit == 0, $"chattr {(immutable ? "+i" : "-i")} {path} failed ({exit}); it needs root and a file system with attributes: {output}");
    }

    public void Dispose()
    {
        // Pooled SQLite connections keep files on the disk open; a lazy unmount detaches it even if one is left.
        SqliteConnection.ClearAllPools();
        if (Run("umount", Root).ExitCode != 0)
        {
            Run("umount", "-l", Root);
        }

        TempDirectory.Delete(Root);
    }

    private static (int ExitCode, string Output) Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error);
    }
}

/// <summary>Tests that fill a disk run one after another, apart from each other's mounts.</summary>
[CollectionDefinition(Name)]
public sealed class SmallDiskCollection
{
    public const string Name = "Small disk";
}
