using System.Net;
using Dapper;
using Microsoft.Data.Sqlite;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>A full disk on a real small tmpfs: 507 for what cannot be written, reads keep answering, recovery without a restart.</summary>
[Collection(SmallDiskCollection.Name)]
public sealed class DiskFullTests : IDisposable
{
    private readonly SmallDisk _disk = new();

    public void Dispose() => _disk.Dispose();

    [Fact]
    public async Task Submission_OnAFullDataDisk_Answers507_LeavesNothing_AndWorksOnceSpaceIsFreed()
    {
        using var factory = new WesApplicationFactory(workers: 0, dataDir: Path.Combine(_disk.Root, "data"));
        using var wes = factory.CreateWesClient();
        var earlier = await wes.SubmitAsync(new RunRequestBuilder());
        _disk.Fill();

        using var refused = await new RunRequestBuilder().WithAttachment("data/input.txt", new string('x', 200_000)).SendAsync(wes);

        var error = await JsonAssert.ErrorAsync(refused, HttpStatusCode.InsufficientStorage);
        var message = error["msg"]!.GetValue<string>();
        Assert.Contains("out of disk space; the run was not submitted", message, StringComparison.Ordinal);
        Assert.DoesNotContain(_disk.Root, message, StringComparison.Ordinal);
        Assert.Equal([earlier], Directory.GetFileSystemEntries(factory.RunsDir).Select(Path.GetFileName));
        await AssertReadsAnswerAsync(wes, earlier, expectedRuns: 1);

        _disk.Free();
        var later = await wes.SubmitAsync(new RunRequestBuilder().WithAttachment("data/input.txt", new string('x', 200_000)));
        Assert.Equal(2, await wes.CountRunsAsync());
        Assert.True(File.Exists(Path.Combine(factory.RunsDir, later, "exe", "data", "input.txt")));
    }

    [Fact]
    public async Task Submission_WhenTheDatabaseDiskIsFull_Answers507_RemovesTheStagedRun_AndWorksOnceSpaceIsFreed()
    {
        var database = Path.Combine(_disk.Root, "wes.db");
        using var factory = new WesApplicationFactory(workers: 0, settings: new Dictionary<string, string?>
        {
            ["Wes:Database"] = $"Data Source={database}",
            // No executor heartbeat writing into the log while the disk fills.
            ["Wes:LeaseSeconds"] = "3600",
        });
        using var wes = factory.CreateWesClient();
        var earlier = await wes.SubmitAsync(new RunRequestBuilder());
        await using (var connection = new SqliteConnection($"Data Source={database}"))
        {
            // An empty write-ahead log: the next commit has to grow it, which the full disk refuses.
            await connection.ExecuteAsync("PRAGMA wal_checkpoint(TRUNCATE)");
        }

        _disk.Fill();

        using var refused = await new RunRequestBuilder().SendAsync(wes);

        var error = await JsonAssert.ErrorAsync(refused, HttpStatusCode.InsufficientStorage);
        Assert.DoesNotContain(_disk.Root, error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal([earlier], Directory.GetFileSystemEntries(factory.RunsDir).Select(Path.GetFileName));
        await AssertReadsAnswerAsync(wes, earlier, expectedRuns: 1);

        _disk.Free();
        await wes.SubmitAsync(new RunRequestBuilder());
        Assert.Equal(2, await wes.CountRunsAsync());
    }

    [Fact]
    public async Task Submission_WhoseUploadCannotBeBuffered_OnAFullDisk_Answers507()
    {
        var dataDir = TempDirectory.Create("wes-disk-full");
        var bufferDir = Directory.CreateDirectory(Path.Combine(_disk.Root, "tmp")).FullName;
        try
        {
            // Request bodies larger than 64 KiB are buffered in ASPNETCORE_TEMP while they are read.
            using var host = await HostProcess.StartAsync(new Dictionary<string, string>
            {
                ["WES_DATA_DIR"] = dataDir, ["ASPNETCORE_TEMP"] = bufferDir, ["DEFAULT_WES_PROVIDER"] = "Mock", ["WES_MAX_CONCURRENT_RUNS"] = "0",
            });
            using var wes = new WesClient(new HttpClient { BaseAddress = new Uri(host.BaseUrl!) }, "/ga4gh/wes/v1");
            _disk.Fill();

            using var refused = await new RunRequestBuilder().WithAttachment("data/input.txt", new string('x', 200_000)).SendAsync(wes);

            var error = await JsonAssert.ErrorAsync(refused, HttpStatusCode.InsufficientStorage);
            Assert.DoesNotContain(_disk.Root, error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(dataDir, "runs")));
        }
        finally
        {
            TempDirectory.Delete(dataDir);
        }
    }

    /// <summary>Reading needs no new disk space: the listing and a status still answer, from pooled and from new connections.</summary>
    private static async Task AssertReadsAnswerAsync(WesClient wes, string runId, int expectedRuns)
    {
        foreach (var fresh in new[] { false, true })
        {
            if (fresh)
            {
                SqliteConnection.ClearAllPools();
            }

            Assert.Equal(expectedRuns, await wes.CountRunsAsync());
            Assert.Equal("QUEUED", await wes.StateAsync(runId));
        }
    }
}
