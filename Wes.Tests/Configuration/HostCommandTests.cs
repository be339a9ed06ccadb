using Dapper;
using Microsoft.Data.Sqlite;
using Wes.Configuration;
using Wes.Tests.Support;

namespace Wes.Tests.Configuration;

public sealed class HostCommandTests : IDisposable
{
    private readonly string _dataDir = TempDirectory.Create("wes-host");

    public void Dispose() => TempDirectory.Delete(_dataDir);

    [Fact]
    public async Task BadSettings_StopTheProcessNamingEachOne()
    {
        var (exitCode, output) = await HostProcess.RunToEndAsync(new Dictionary<string, string>
        {
            ["WES_DATA_DIR"] = _dataDir,
            ["WORKFLOW_POLL_INTERVAL"] = "0",
            ["WES_MAX_CONCURRENT_RUNS"] = "-3",
            ["DEFAULT_WES_PROVIDER"] = "Cloud",
        }, "--urls", $"http://127.0.0.1:{LocalHttpServer.FreePort()}");

        Assert.Equal(2, exitCode);
        Assert.Contains("WORKFLOW_POLL_INTERVAL", output, StringComparison.Ordinal);
        Assert.Contains("WES_MAX_CONCURRENT_RUNS", output, StringComparison.Ordinal);
        Assert.Contains("DEFAULT_WES_PROVIDER", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnparsableNumber_StopsTheProcessNamingTheSetting()
    {
        var (exitCode, output) = await HostProcess.RunToEndAsync(
            new Dictionary<string, string> { ["WES_DATA_DIR"] = _dataDir, ["WES_MAX_CONCURRENT_RUNS"] = "lots" },
            "--urls", $"http://127.0.0.1:{LocalHttpServer.FreePort()}");

        Assert.Equal(2, exitCode);
        Assert.Contains("MaxConcurrentRuns", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortInUse_StopsTheProcessWithAClearMessage()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;

        var (exitCode, output) = await HostProcess.RunToEndAsync(
            new Dictionary<string, string> { ["WES_DATA_DIR"] = _dataDir, ["DEFAULT_WES_PROVIDER"] = "Mock" }, "--urls", $"http://127.0.0.1:{port}");

        Assert.Equal(2, exitCode);
        Assert.Contains("address already in use", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_CreatesTheDatabaseAndExits()
    {
        var (exitCode, output) = await HostProcess.RunToEndAsync(new Dictionary<string, string> { ["WES_DATA_DIR"] = _dataDir }, "migrate");

        Assert.True(exitCode == 0, output);
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_dataDir, "wes.db")}");
        var tables = (await connection.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table'")).ToList();
        Assert.Contains("runs", tables);
        Assert.Contains("run_state_history", tables);
        Assert.Contains("run_tasks", tables);
        Assert.Equal("wal", await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode"));
    }

    [Fact]
    public void Validator_ReportsEveryBadValueAtOnce()
    {
        var options = new WesOptions { PollIntervalSeconds = 0, MaxConcurrentRuns = -1, MaxAttempts = 0, DefaultPageSize = 900, PublicBaseUrl = "ftp://x" };

        var result = new WesOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(5, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("WORKFLOW_POLL_INTERVAL", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("WES_PUBLIC_BASE_URL", StringComparison.Ordinal));
    }
}
