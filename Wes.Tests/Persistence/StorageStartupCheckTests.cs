using Wes.Tests.Support;

namespace Wes.Tests.Persistence;

/// <summary>
/// The real process on storage it cannot use stops at once with exit code 3 and one line naming the file and what to
/// do, instead of aborting with a stack trace or dying of SIGBUS.
/// </summary>
[Collection(SmallDiskCollection.Name)]
public sealed class StorageStartupCheckTests : IDisposable
{
    private const int StorageUnusable = 3;
    private readonly SmallDisk _disk = new();

    public void Dispose() => _disk.Dispose();

    private string DataDir => Path.Combine(_disk.Root, "data");

    [Fact]
    public async Task Start_WithAnUnwritableSharedMemoryFile_ExitsWithOneLineNamingIt()
    {
        await MigrateAsync();
        // What a crash leaves behind, then made unwritable: chmod would not stop root, the immutable attribute does.
        var shm = Path.Combine(DataDir, "wes.db-shm");
        await File.WriteAllBytesAsync(shm, []);
        SmallDisk.SetImmutable(shm, true);

        var (exit, output) = await HostProcess.RunToEndAsync(Environment(), "--urls", $"http://127.0.0.1:{LocalHttpServer.FreePort()}");

        Assert.True(exit == StorageUnusable, $"exit {exit}: {output}");
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith($"Cannot start: the SQLite shared-memory file {shm} cannot be written", line, StringComparison.Ordinal);
        Assert.Contains("delete it (SQLite rebuilds it)", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithAnUnwritableDataFolder_ExitsWithOneLineNamingIt()
    {
        await MigrateAsync();
        SmallDisk.SetImmutable(DataDir, true);

        var (exit, output) = await HostProcess.RunToEndAsync(Environment(), "executor");

        Assert.True(exit == StorageUnusable, $"exit {exit}: {output}");
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith($"Cannot start: the data folder (WES_DATA_DIR) {DataDir} cannot be written", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_OnAFullDisk_ExitsWithOneLineSayingSo()
    {
        await MigrateAsync();
        _disk.Fill();

        var (exit, output) = await HostProcess.RunToEndAsync(Environment(), "migrate");

        Assert.True(exit == StorageUnusable, $"exit {exit}: {output}");
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith($"Cannot start: the disk holding the data folder (WES_DATA_DIR) {DataDir} is full", line, StringComparison.Ordinal);
    }

    private Dictionary<string, string> Environment() => new() { ["WES_DATA_DIR"] = DataDir, ["DEFAULT_WES_PROVIDER"] = "Mock" };

    private async Task MigrateAsync()
    {
        var (exit, output) = await HostProcess.RunToEndAsync(Environment(), "migrate");
        Assert.True(exit == 0, output);
    }
}
