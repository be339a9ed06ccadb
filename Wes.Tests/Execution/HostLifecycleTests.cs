using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>The real process under SIGTERM and kill -9: no run is lost or left hanging.</summary>
public sealed class HostLifecycleTests : IDisposable
{
    private readonly string _dataDir = TempDirectory.Create("wes-lifecycle");

    public void Dispose() => TempDirectory.Delete(_dataDir);

    [Fact]
    public async Task Sigterm_HandsRunsInFlightBackToTheQueueWithinTheGrace()
    {
        var environment = new Dictionary<string, string>
        {
            ["WES_DATA_DIR"] = _dataDir, ["DEFAULT_WES_PROVIDER"] = "Mock", ["WES_SHUTDOWN_GRACE"] = "1",
            ["Wes__Mock__DelayMilliseconds"] = "600000",
        };
        string runId;
        using (var host = await HostProcess.StartAsync(environment))
        {
            using var client = new WesClient(new HttpClient { BaseAddress = new Uri(host.BaseUrl!) }, "/ga4gh/wes/v1");
            runId = await client.SubmitAsync(new RunRequestBuilder());
            Assert.Equal("RUNNING", await client.WaitForAsync(runId, "RUNNING"));

            host.Signal("TERM");

            Assert.Equal(0, await host.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        // The restarted server finds the run queued, with the hand-back recorded, and finishes it.
        environment["Wes__Mock__DelayMilliseconds"] = "10";
        using var restarted = await HostProcess.StartAsync(environment);
        using var wes = new WesClient(new HttpClient { BaseAddress = new Uri(restarted.BaseUrl!) }, "/ga4gh/wes/v1");
        Assert.Equal("COMPLETE", await wes.WaitForTerminalAsync(runId));
        var logs = (await wes.GetJsonAsync($"/runs/{runId}"))["run_log"]!["system_logs"]!.AsArray();
        Assert.Contains(logs, l => l!.GetValue<string>().Contains("shut down before the run finished; re-queued", StringComparison.Ordinal));
        // A graceful hand-back is not the run's fault: it does not use up one of its attempts.
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dataDir, "wes.db")}");
        Assert.Equal(1L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT attempt FROM runs WHERE run_id = @runId", new { runId }));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KillNine_TheRestartKillsTheOrphanedEngineAndSettlesTheRun(bool stepLeavesTheGroup)
    {
        var seconds = Random.Shared.Next(100_000, 900_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        // A step started in a session of its own (as Toil starts its jobs) is out of reach of the group signal.
        var request = stepLeavesTheGroup
            ? new RunRequestBuilder().WithoutAttachments().With("workflow_url", "escape.cwl").With("workflow_type_version", "v1.2")
                .With("workflow_params", $$"""{"seconds": {{seconds}}}""")
                .WithAttachment("escape.cwl", "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [setsid, sleep]\ninputs:\n  seconds: {type: int, inputBinding: {position: 1}}\noutputs: []\n")
            : RunRequestBuilder.ForExample("sleep", "sleep.cwl", "v1.2").With("workflow_params", $$"""{"seconds": {{seconds}}}""");
        var environment = new Dictionary<string, string> { ["WES_DATA_DIR"] = _dataDir, ["WES_MAX_ATTEMPTS"] = "1" };
        string runId;
        using (var host = await HostProcess.StartAsync(environment))
        {
            using var client = new WesClient(new HttpClient { BaseAddress = new Uri(host.BaseUrl!) }, "/ga4gh/wes/v1");
            runId = await client.SubmitAsync(request);
            Assert.Equal("RUNNING", await client.WaitForAsync(runId, "RUNNING"));
            await ProcessTable.WaitUntilAsync(() => ProcessTable.FindByCommandLine("sleep", seconds).Count == 1, TimeSpan.FromSeconds(30), "the sleep step runs");

            host.Signal("KILL");
            await host.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        // The engine outlived its server: it runs in its own process group (or session).
        Assert.Single(ProcessTable.FindByCommandLine("sleep", seconds));

        using var restarted = await HostProcess.StartAsync(environment);
        using var wes = new WesClient(new HttpClient { BaseAddress = new Uri(restarted.BaseUrl!) }, "/ga4gh/wes/v1");
        Assert.Equal("SYSTEM_ERROR", await wes.WaitForTerminalAsync(runId));
        await ProcessTable.WaitUntilAsync(() => ProcessTable.FindByCommandLine("sleep", seconds).Count == 0, TimeSpan.FromSeconds(10), "the orphaned engine is gone");
        var message = (await wes.GetJsonAsync($"/runs/{runId}"))["run_log"]!["system_logs"]![0]!.GetValue<string>();
        Assert.Contains("stopped while the run was RUNNING", message, StringComparison.Ordinal);
    }
}
