using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Wes.Execution.Engines;
using Wes.Providers;
using Wes.Tests.Support;
using Xunit;

namespace Wes.Tests.Execution.Detached;

/// <summary>Runs whose work goes on elsewhere: followed without a worker, canceled where they run, adopted after a restart.</summary>
public sealed class DetachedProviderTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _dataDir = TempDirectory.Create("wes-detached");
    private readonly string _jobsDir = TempDirectory.Create("wes-jobs");
    private FileJobProvider? _provider;

    public void Dispose()
    {
        TempDirectory.Delete(_dataDir);
        TempDirectory.Delete(_jobsDir);
    }

    private WesApplicationFactory Server(int workers = 1, bool canFollow = true, int attempts = 1) => new(workers: workers, dataDir: _dataDir,
        settings: new Dictionary<string, string?> { ["Wes:MaxAttempts"] = attempts.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        services: services => services.AddSingleton<IExecutionProvider>(sp =>
        {
            var provider = new FileJobProvider(_jobsDir, sp.GetRequiredService<EngineCatalog>(), canFollow);
            // Every server's provider counts starts in the file they share.
            _provider ??= provider;
            return provider;
        }));

    /// <summary>Submits a run to the file jobs and waits until its job is recorded; it is then started but not yet running.</summary>
    private async Task<string> StartDetachedAsync(WesClient client)
    {
        var runId = await SubmitDetachedAsync(client);
        await ProcessTable.WaitUntilAsync(async () => SystemLogs(await client.GetJsonAsync($"/runs/{runId}"))
            .Any(line => line.Contains($"runs this run's work as filejob:{runId}", StringComparison.Ordinal)), Timeout, "the job is recorded");
        return runId;
    }

    private async Task<string> RunningDetachedAsync(WesClient client)
    {
        var runId = await StartDetachedAsync(client);
        _provider!.Begin(runId);
        await client.WaitForAsync(runId, "RUNNING", Timeout);
        return runId;
    }

    private static IEnumerable<string> SystemLogs(JsonObject log) =>
        log["run_log"]!["system_logs"]!.AsArray().Select(line => line!.GetValue<string>());

    private static Task<string> SubmitDetachedAsync(WesClient client) =>
        client.SubmitAsync(new RunRequestBuilder().WithTags($$"""{"{{ExecutionProviders.Tag}}": "{{FileJobProvider.ProviderName}}"}"""));

    [Fact]
    public async Task Runs_waiting_on_work_elsewhere_do_not_hold_the_only_worker()
    {
        using var server = Server(workers: 1);
        using var client = server.CreateWesClient();
        var detached = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            detached.Add(await StartDetachedAsync(client));
        }

        // Started but still queued where they run: INITIALIZING, with the job recorded.
        Assert.Equal("INITIALIZING", await client.StateAsync(detached[2]));
        _provider!.Begin(detached[0]);
        await client.WaitForAsync(detached[0], "RUNNING", Timeout);

        var running = server.Service<Wes.Execution.RunCancellations>();
        Assert.Equal((3, 3), (running.Count, running.DetachedCount));

        // The one worker is still free for local work while all three wait.
        var mock = await client.SubmitAsync(new RunRequestBuilder());
        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(mock, Timeout));

        _provider.Finish(detached[0], "ok");
        _provider.Finish(detached[1], "bad input");
        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(detached[0], Timeout));
        // Ended without ever being seen running: its end is recorded from RUNNING all the same.
        Assert.Equal("EXECUTOR_ERROR", await client.WaitForTerminalAsync(detached[1], Timeout));
        Assert.Equal("INITIALIZING", await client.StateAsync(detached[2]));

        var log = await client.GetJsonAsync($"/runs/{detached[0]}");
        Assert.Equal($"filejob:{detached[0]}", log["outputs"]!["answer"]!.GetValue<string>());
        var failed = await client.GetJsonAsync($"/runs/{detached[1]}");
        Assert.Equal(3, failed["run_log"]!["exit_code"]!.GetValue<int>());
        Assert.Equal(3, _provider.Starts);
    }

    [Fact]
    public async Task A_cancel_reaches_the_work_where_it_runs_and_the_run_ends_canceled()
    {
        using var server = Server();
        using var client = server.CreateWesClient();
        var runId = await RunningDetachedAsync(client);

        var cancel = await client.Http.PostAsync(client.Url($"/runs/{runId}/cancel"), null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);

        Assert.Equal("CANCELED", await client.WaitForTerminalAsync(runId, Timeout));
        Assert.True(_provider!.WasCanceled(runId));
    }

    [Fact]
    public async Task A_restarted_server_follows_the_same_work_again_instead_of_starting_it_over()
    {
        string runId;
        using (var first = Server())
        using (var client = first.CreateWesClient())
        {
            runId = await RunningDetachedAsync(client);
        }

        // Shut down while the work went on: nothing canceled it, and the run was left RUNNING for the next executor.
        Assert.False(_provider!.WasCanceled(runId));
        using var second = Server();
        using var again = second.CreateWesClient();
        await ProcessTable.WaitUntilAsync(async () =>
            SystemLogs(await again.GetJsonAsync($"/runs/{runId}")).Any(line => line.Contains("follows this run's work", StringComparison.Ordinal)),
            Timeout, "the restarted server adopts the run");
        Assert.Equal("RUNNING", await again.StateAsync(runId));

        _provider.Finish(runId, "ok");
        Assert.Equal("COMPLETE", await again.WaitForTerminalAsync(runId, Timeout));
        Assert.Equal(1, _provider.Starts);
    }

    [Fact]
    public async Task A_run_canceled_while_no_server_followed_it_is_canceled_where_it_runs_once_followed_again()
    {
        string runId;
        using (var first = Server())
        using (var client = first.CreateWesClient())
        {
            runId = await RunningDetachedAsync(client);
        }

        // A server without an executor takes the cancel: the run waits in CANCELING for one to follow it.
        using (var apiOnly = new WesApplicationFactory(dataDir: _dataDir, services: services =>
            services.Remove(services.Single(d => d.ImplementationType == typeof(Wes.Execution.ExecutorService)))))
        using (var client = apiOnly.CreateWesClient())
        {
            var cancel = await client.Http.PostAsync(client.Url($"/runs/{runId}/cancel"), null);
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            Assert.Equal("CANCELING", await client.StateAsync(runId));
        }

        using var second = Server();
        using var again = second.CreateWesClient();
        Assert.Equal("CANCELED", await again.WaitForTerminalAsync(runId, Timeout));
        Assert.True(_provider!.WasCanceled(runId));
        Assert.Equal(1, _provider.Starts);
    }

    [Fact]
    public async Task Work_the_other_side_no_longer_knows_is_not_started_again_even_when_retries_remain()
    {
        using var server = Server(attempts: 3);
        using var client = server.CreateWesClient();
        var lost = await RunningDetachedAsync(client);
        var failedNode = await RunningDetachedAsync(client);

        _provider!.Finish(lost, "lost");
        _provider.Finish(failedNode, "node failed");

        Assert.Equal("SYSTEM_ERROR", await client.WaitForTerminalAsync(lost, Timeout));
        // A retryable failure goes back to the queue and starts its work again; the lost one never does.
        await ProcessTable.WaitUntilAsync(() => _provider.StartsOf(failedNode) == 2, Timeout, "the failed node's run starts again");
        Assert.Equal(1, _provider.StartsOf(lost));
        Assert.Equal("SYSTEM_ERROR", await client.StateAsync(lost));
    }

    [Fact]
    public async Task An_executor_that_cannot_follow_the_work_leaves_the_run_to_one_that_can()
    {
        string runId;
        using (var first = Server())
        using (var client = first.CreateWesClient())
        {
            runId = await RunningDetachedAsync(client);
        }

        using (var blind = Server(canFollow: false))
        using (var client = blind.CreateWesClient())
        {
            // Its reconciler has run at start-up; a second pass to be sure, then the run is still as it was left.
            await blind.Service<Wes.Execution.Reconciler>().ReconcileAsync(CancellationToken.None);
            Assert.Equal("RUNNING", await client.StateAsync(runId));
            Assert.DoesNotContain(SystemLogs(await client.GetJsonAsync($"/runs/{runId}")), line => line.Contains("follows this run's work", StringComparison.Ordinal));
        }

        using var able = Server();
        using var again = able.CreateWesClient();
        _provider!.Finish(runId, "ok");
        Assert.Equal("COMPLETE", await again.WaitForTerminalAsync(runId, Timeout));
        Assert.Equal(1, _provider.Starts);
    }

    [Fact]
    public async Task A_provider_tag_naming_no_provider_is_refused_with_the_names_there_are()
    {
        using var server = Server();
        using var client = server.CreateWesClient();
        var response = await new RunRequestBuilder().WithTags("""{"wes.provider": "Nowhere"}""").SendAsync(client);

        var message = (await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest))["msg"]!.GetValue<string>();
        Assert.Contains("FileJob", message, StringComparison.Ordinal);
        Assert.Contains("Mock", message, StringComparison.Ordinal);
        // Local runs on the server's own host: picked by tag only where WES_PROVIDERS names it.
        Assert.DoesNotContain("Local", message, StringComparison.Ordinal);
        Assert.Equal(0, await client.CountRunsAsync());
    }

    [Fact]
    public async Task WES_PROVIDERS_lets_runs_pick_the_local_engines_by_tag()
    {
        using var server = new WesApplicationFactory(workers: 0, settings: new Dictionary<string, string?> { ["Wes:Providers"] = "Local" });
        using var client = server.CreateWesClient();

        var local = await new RunRequestBuilder().WithTags("""{"wes.provider": "local"}""").SendAsync(client);
        var fileJob = await new RunRequestBuilder().WithTags($$"""{"wes.provider": "{{FileJobProvider.ProviderName}}"}""").SendAsync(client);

        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        // A name the server has no provider for is still refused.
        Assert.Equal(HttpStatusCode.BadRequest, fileJob.StatusCode);
        var runId = JsonNode.Parse(await local.Content.ReadAsStringAsync())!["run_id"]!.GetValue<string>();
        Assert.Equal("Local", (await server.Service<Wes.Persistence.RunStore>().GetAsync(runId, CancellationToken.None))!.Provider);
    }
}
