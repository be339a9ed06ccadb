using System.Net;
using Microsoft.Data.Sqlite;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>A database that cannot be written or reached: 503 with Retry-After, nothing written, reads answered where possible.</summary>
[Collection(SmallDiskCollection.Name)]
public sealed class DatabaseUnavailableTests : IDisposable
{
    private readonly SmallDisk _disk = new();

    public void Dispose() => _disk.Dispose();

    [Fact]
    public async Task Submission_WhenTheDatabaseFileIsReadOnly_Answers503WithRetryAfter_AndReadsStillWork()
    {
        using var factory = new WesApplicationFactory(workers: 0, dataDir: Path.Combine(_disk.Root, "data"),
            settings: new Dictionary<string, string?> { ["Wes:LeaseSeconds"] = "3600" });
        using var wes = factory.CreateWesClient();
        var earlier = await wes.SubmitAsync(new RunRequestBuilder());
        var database = Path.Combine(factory.DataDir, "wes.db");
        SmallDisk.SetImmutable(database, true);
        // Connections opened from now on find the file read-only, as after a remount or a change of owner.
        SqliteConnection.ClearAllPools();
        try
        {
            using var refused = await new RunRequestBuilder().SendAsync(wes);

            var error = await JsonAssert.ErrorAsync(refused, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("database or storage is unavailable", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("the run was not submitted", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.DoesNotContain(_disk.Root, error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(TimeSpan.FromSeconds(30), refused.Headers.RetryAfter?.Delta);
            Assert.Equal([earlier], Directory.GetFileSystemEntries(factory.RunsDir).Select(Path.GetFileName));

            Assert.Equal(1, await wes.CountRunsAsync());
            Assert.Equal("QUEUED", await wes.StateAsync(earlier));
            using var cancel = await wes.Http.PostAsync(wes.Url($"/runs/{earlier}/cancel"), null);
            await JsonAssert.ErrorAsync(cancel, HttpStatusCode.ServiceUnavailable);
        }
        finally
        {
            SmallDisk.SetImmutable(database, false);
        }

        SqliteConnection.ClearAllPools();
        await wes.SubmitAsync(new RunRequestBuilder());
        Assert.Equal(2, await wes.CountRunsAsync());
    }
}

public sealed class PostgresUnreachableTests
{
    [Fact]
    public async Task EveryRequest_WhenPostgreSqlCannotBeReached_Answers503WithRetryAfter()
    {
        // Nothing listens on this port: each connection attempt is refused at once.
        var unreachable = $"Host=127.0.0.1;Port={LocalHttpServer.FreePort()};Username=wes;Database=wes;Timeout=2";
        using var factory = new WesApplicationFactory(workers: 0, settings: new Dictionary<string, string?>
        {
            ["Wes:Database"] = unreachable,
            ["Wes:MigrateOnStartup"] = "false",
        });
        using var wes = factory.CreateWesClient();

        using var list = await wes.GetAsync("/runs");
        using var submit = await new RunRequestBuilder().SendAsync(wes);

        await JsonAssert.ErrorAsync(list, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(list.Headers.RetryAfter);
        var error = await JsonAssert.ErrorAsync(submit, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("the run was not submitted", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(factory.RunsDir) && Directory.EnumerateFileSystemEntries(factory.RunsDir).Any());
    }
}
