using Dapper;
using Microsoft.Data.Sqlite;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>A run in flight when the database's disk fills up ends on its own once space is freed, without a restart.</summary>
[Collection(SmallDiskCollection.Name)]
public sealed class DiskFullRecoveryTests : IDisposable
{
    private readonly SmallDisk _disk = new();

    public void Dispose() => _disk.Dispose();

    [Fact]
    public async Task RunEndingWhileTheDatabaseDiskIsFull_IsRecordedOnceSpaceIsFreed()
    {
        var database = Path.Combine(_disk.Root, "wes.db");
        using var factory = new WesApplicationFactory(workers: 1, settings: new Dictionary<string, string?>
        {
            ["Wes:Database"] = $"Data Source={database}",
            ["Wes:LeaseSeconds"] = "3600",
            // Long enough for the disk to be filled while the engine still runs.
            ["Wes:Mock:DelayMilliseconds"] = "5000",
        });
        using var wes = factory.CreateWesClient();
        var runId = await wes.SubmitAsync(new RunRequestBuilder());
        Assert.Equal("RUNNING", await wes.WaitForAsync(runId, "RUNNING"));
        await using (var connection = new SqliteConnection($"Data Source={database}"))
        {
            // An empty write-ahead log: the executor's record has to grow it, which the full disk refuses.
            await connection.ExecuteAsync("PRAGMA wal_checkpoint(TRUNCATE)");
        }

        _disk.Fill();
        // The Mock engine writes its outputs when it ends; from then on the executor tries to record the end.
        var outputs = Path.Combine(factory.RunsDir, runId, "stdout.log");
        await ProcessTable.WaitUntilAsync(() => File.Exists(outputs), TimeSpan.FromSeconds(30), "the engine ends");
        Assert.Equal("RUNNING", await wes.StateAsync(runId));

        _disk.Free();

        Assert.Equal("COMPLETE", await wes.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(90)));
    }
}
