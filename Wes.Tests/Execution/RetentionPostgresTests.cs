using Wes.Execution;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>Two executors sweeping one PostgreSQL database and runs folder at once: every run is cleaned, and recorded once.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RetentionPostgresTests(PostgresServer postgres) : IDisposable
{
    private readonly string _dataDir = TempDirectory.Create("wes-retention-pg");

    public void Dispose() => TempDirectory.Delete(_dataDir);

    [Fact]
    public async Task TwoExecutorsSweepingTogether_RemoveEveryRunsFiles_AndRecordEachRunOnce()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Wes:Database"] = postgres.CreateDatabase(), ["Wes:Retention:Days"] = "1", ["Wes:Retention:BatchSize"] = "7",
        };
        using var first = new WesApplicationFactory(workers: 0, dataDir: _dataDir, settings: settings);
        using var second = new WesApplicationFactory(workers: 0, dataDir: _dataDir, settings: settings);
        using var wes = first.CreateWesClient();
        var runs = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            runs.Add(await RetentionRuns.EndedAsync(first, TimeSpan.FromDays(2) + TimeSpan.FromMinutes(i)));
        }

        var sweeps = await Task.WhenAll(
            Task.Run(() => first.Service<RunRetention>().SweepAsync(CancellationToken.None)),
            Task.Run(() => second.Service<RunRetention>().SweepAsync(CancellationToken.None)));

        Assert.All(sweeps, sweep => Assert.Equal(0, sweep.Failed));
        foreach (var runId in runs)
        {
            Assert.False(Directory.Exists(Path.Combine(_dataDir, "runs", runId, "outputs")), runId);
            Assert.NotNull(await RetentionRuns.FilesRemovedAtAsync(first, runId));
            var log = await wes.GetJsonAsync($"/runs/{runId}");
            Assert.Single(log["run_log"]!["system_logs"]!.AsArray(), line => line!.GetValue<string>().StartsWith("Run files removed", StringComparison.Ordinal));
        }

        Assert.Equal(new RetentionSweep(0, 0), await second.Service<RunRetention>().SweepAsync(CancellationToken.None));
    }
}
