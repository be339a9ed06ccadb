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

    private WesApplicationFactory Server(int workers = 1) => new(workers: workers, dataDir: _dataDir, services: services =>
        services.AddSingleton<IExecutionProvider>(sp => _provider ??= new FileJobProvider(_jobsDir, sp.GetRequiredService<EngineCatalog>())));

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
            detached.Add(await SubmitDetachedAsync(client));
        }

        foreach (var runId in detached)
        {
            await client.WaitForAsync(runId, "RUNNING", Timeout);
        }

        var running = server.Service<Wes.Execution.RunCancellations>();
        Assert.Equal((3, 3), (running.Count, running.DetachedCount));

        // The one worker is still free for local work while all three wait.
        var mock = await client.SubmitAsync(new RunRequestBuilder());
        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(mock, Timeout));

        _provider!.Finish(detached[0], "ok");
        _provider.Finish(detached[1], "bad input");
        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(detached[0], Timeout));
        Assert.Equal("EXECUTOR_ERROR", await client.WaitForTerminalAsync(detached[1], Timeout));
        Assert.Equal("RUNNING", await client.StateAsync(detached[2]));

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
        var runId = await SubmitDetachedAsync(client);
        await client.WaitForAsync(runId, "RUNNING", Timeout);

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
            runId = await SubmitDetachedAsync(client);
            await client.WaitForAsync(runId, "RUNNING", Timeout);
        }

        // Shut down while the work went on: nothing canceled it, and the run was left RUNNING for the next executor.
        Assert.False(_provider!.WasCanceled(runId));
        using var second = Server();
        using var again = second.CreateWesClient();
        await ProcessTable.WaitUntilAsync(async () =>
            (await again.GetJsonAsync($"/runs/{runId}"))["run_log"]!["system_logs"]!.AsArray()
                .Any(line => line!.GetValue<string>().Contains("follows this run's work", StringComparison.Ordinal)),
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
            runId = await SubmitDetachedAsync(client);
            await client.WaitForAsync(runId, "RUNNING", Timeout);
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
    public async Task A_provider_tag_naming_no_provider_is_refused_with_the_names_there_are()
    {
        using var server = Server();
        using var client = server.CreateWesClient();
        var response = await new RunRequestBuilder().WithTags("""{"wes.provider": "Nowhere"}""").SendAsync(client);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(400, error["status_code"]!.GetValue<int>());
        var message = error["msg"]!.GetValue<string>();
        Assert.Contains("FileJob", message, StringComparison.Ordinal);
        Assert.Contains("Local", message, StringComparison.Ordinal);
        Assert.Equal(0, await client.CountRunsAsync());
    }
}
