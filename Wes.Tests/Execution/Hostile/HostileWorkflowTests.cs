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
            // The engine ran in a PID namespace of its own: what the workflow detached went with it.
            Assert.Empty(ProcessTable.FindByCommandLine("sleep", seconds));
        }
        finally
        {
            foreach (var pid in ProcessTable.FindByCommandLine("sleep", seconds))
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill();
            }
        }
    }

    /// <summary>Unsandboxed (the operator's opt-out), a workflow can replace its run's logs: reading them must not hang.</summary>
    [Fact]
    public async Task LogsReplacedByFifos_RunStillEndsAndTheServerAnswers()
    {
        using var factory = new WesApplicationFactory(provider: "Local", workers: 1,
            settings: new Dictionary<string, string?> { ["Wes:Sandbox:Mode"] = "Off" });
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(HostileWorkflows.Request(
            "cd ../.. && rm -f stderr.log stdout.log && mkfifo stderr.log stdout.log && sleep 3"));

        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(60)));
        Assert.Equal("FIFO", FileKind(Path.Combine(factory.RunsDir, runId, "stderr.log")));
        using var info = await client.GetAsync("/service-info").WaitAsync(TimeSpan.FromSeconds(10));
        info.EnsureSuccessStatusCode();
        using var stderr = await client.GetAsync($"/runs/{runId}/stderr").WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, stderr.StatusCode);
    }

    /// <summary>In the sandbox the run's own folder is read-only to the workflow: its logs cannot be replaced at all.</summary>
    [Fact]
    public async Task Sandboxed_LogsCannotBeReplaced()
    {
        var runId = await _client.SubmitAsync(HostileWorkflows.Request("cd ../.. && rm -f stderr.log"));

        Assert.Equal("EXECUTOR_ERROR", await _client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(60)));
        Assert.True(File.Exists(Path.Combine(_factory.RunsDir, runId, "stderr.log")));
    }

    /// <summary>
    /// Two executors (this process and a real executor process) share one database, with a 2-second lease. The run
    /// prints lines the log parser cannot read while it runs for several leases; the lease must keep being renewed, so
    /// the run is claimed once and never started a second time.
    /// </summary>
    [Fact]
    public async Task GarbageWhileRunningForSeveralLeases_IsClaimedOnceAndCompletes()
    {
        var dataDir = TempDirectory.Create("wes-lease");
        try
        {
            using var first = new WesApplicationFactory(provider: "Local", workers: 1, dataDir: dataDir,
                settings: new Dictionary<string, string?> { ["Wes:LeaseSeconds"] = "2" });
            using var client = first.CreateWesClient();
            using var second = await HostProcess.StartExecutorAsync(new Dictionary<string, string>
            {
                ["WES_DATA_DIR"] = dataDir, ["DEFAULT_WES_PROVIDER"] = "Local", ["WES_MAX_CONCURRENT_RUNS"] = "1",
                ["WES_LEASE_SECONDS"] = "2", ["WORKFLOW_POLL_INTERVAL"] = "0.2", ["WES_SHUTDOWN_GRACE"] = "0",
            });
            var runId = await client.SubmitAsync(HostileWorkflows.Request(
                $"for i in 1 2 3 4 5 6 7 8; do echo '{HostileWorkflows.ImpossibleJobLine}' >&2; sleep 1; done"));

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
