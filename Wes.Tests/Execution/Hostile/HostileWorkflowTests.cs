using Dapper;
using Microsoft.Data.Sqlite;
using Wes.Tests.Support;

namespace Wes.Tests.Execution.Hostile;

/// <summary>
/// Real cwltool runs of workflows that attack the executor through what they print and leave behind. None of them
/// may hold a worker past its own end, stop the lease, or make the run execute twice.
/// </summary>
public sealed class HostileWorkflowTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(provider: "Local", workers: 2);
    private readonly WesClient _client;

    public HostileWorkflowTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task ImpossibleTimestampOnStderr_RunStillCompletesWithItsTask()
    {
        var runId = await _client.SubmitAsync(HostileWorkflows.Request($"echo '{HostileWorkflows.ImpossibleJobLine}' >&2; sleep 3"));

        Assert.Equal("COMPLETE", await _client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(60)));
        var tasks = (await _client.GetJsonAsync($"/runs/{runId}/tasks"))["task_logs"]!.AsArray();
        Assert.Contains(tasks, t => t!["name"]!.GetValue<string>() == "hostile.cwl" && t["exit_code"]!.GetValue<int>() == 0);
    }

    [Fact]
    public async Task ImpossibleTimestampOnStderr_CancelStillEndsTheRun()
    {
        var runId = await _client.SubmitAsync(HostileWorkflows.Request($"echo '{HostileWorkflows.ImpossibleJobLine}' >&2; sleep 600"));
        var stderr = Path.Combine(_factory.RunsDir, runId, "stderr.log");
        await ProcessTable.WaitUntilAsync(() => File.Exists(stderr) && File.ReadAllText(stderr).Contains("25:61:61", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60), "the tool prints its line");

        (await _client.Http.PostAsync(_client.Url($"/runs/{runId}/cancel"), null)).EnsureSuccessStatusCode();

        Assert.Equal("CANCELED", await _client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task DetachedProcessHoldingTheEngineOutput_DoesNotHoldTheRun()
    {
        var seconds = Random.Shared.Next(100_000, 900_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var runId = await _client.SubmitAsync(HostileWorkflows.Request($"setsid sleep {seconds} & echo started"));
        try
        {
            Assert.Equal("COMPLETE", await _client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(60)));
        }
        finally
        {
            foreach (var pid in ProcessTable.FindByCommandLine("sleep", seconds))
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill();
            }
        }
    }

    [Fact]
    public async Task LogsReplacedByFifos_RunStillEndsAndTheServerAnswers()
    {
        var runId = await _client.SubmitAsync(HostileWorkflows.Request(
            "cd ../.. && rm -f stderr.log stdout.log && mkfifo stderr.log stdout.log && sleep 3"));

        Assert.Equal("COMPLETE", await _client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(60)));
        Assert.Equal("FIFO", FileKind(Path.Combine(_factory.RunsDir, runId, "stderr.log")));
        using var info = await _client.GetAsync("/service-info").WaitAsync(TimeSpan.FromSeconds(10));
        info.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// Two executors share one database, with a 2-second lease. The run prints lines the log parser cannot read while it
    /// runs for several leases; the lease must keep being renewed, so the other executor never takes the run.
    /// </summary>
    [Fact]
    public async Task GarbageWhileRunningForSeveralLeases_IsClaimedOnceAndCompletes()
    {
        var shortLease = new Dictionary<string, string?> { ["Wes:LeaseSeconds"] = "2" };
        var dataDir = TempDirectory.Create("wes-lease");
        try
        {
            using var first = new WesApplicationFactory(provider: "Local", workers: 1, dataDir: dataDir, settings: shortLease);
            using var client = first.CreateWesClient();
            var runId = await client.SubmitAsync(HostileWorkflows.Request(
                $"for i in 1 2 3 4 5 6 7 8; do echo '{HostileWorkflows.ImpossibleJobLine}' >&2; sleep 1; done"));
            using var second = new WesApplicationFactory(provider: "Local", workers: 1, dataDir: dataDir, settings: shortLease);
            using var other = second.CreateWesClient();

            Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(90)));
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDir, "wes.db")}");
            var claims = await connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM run_state_history WHERE run_id = @runId AND to_state = 'INITIALIZING'", new { runId });
            Assert.Equal(1, claims);
        }
        finally
        {
            TempDirectory.Delete(dataDir);
        }
    }

    private static string FileKind(string path) =>
        (File.GetAttributes(path) & FileAttributes.Device) != 0 || new FileInfo(path).Length == 0 && !IsRegular(path) ? "FIFO" : "regular";

    private static bool IsRegular(string path)
    {
        using var stream = Wes.Execution.RegularFile.TryOpen(path, out _);
        return stream is not null;
    }
}
