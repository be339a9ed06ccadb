using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Persistence;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>Real cwltool runs through the whole server: submit, execute, record, read back.</summary>
public sealed class CwltoolEndToEndTests : IDisposable
{
    /// <summary>The download tests serve workflows from 127.0.0.1, which the server only fetches from when allowed.</summary>
    private static readonly Dictionary<string, string?> AllowLoopbackFetch = new() { ["Wes:Fetch:AllowedHosts"] = "127.0.0.1" };

    private readonly WesApplicationFactory _factory = new(provider: "Local", workers: 2, settings: AllowLoopbackFetch);
    private readonly WesClient _client;

    public CwltoolEndToEndTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task WorkflowWithAttachmentsInSubfolders_Completes()
    {
        var runId = await _client.SubmitAsync(RunRequestBuilder.ForExample("pipeline", "workflow.cwl", "v1.2"));

        Assert.Equal("COMPLETE", await _client.WaitForTerminalAsync(runId));

        var log = await _client.GetJsonAsync($"/runs/{runId}");
        SpecContract.AssertMatches(log, "RunLog");
        Assert.Equal(0, log["run_log"]!["exit_code"]!.GetValue<int>());
        var count = log["outputs"]!["count"]!;
        Assert.Equal("File", count["class"]!.GetValue<string>());
        Assert.Equal("9", File.ReadAllText(count["path"]!.GetValue<string>()).Trim());
        Assert.StartsWith(Path.Combine(_factory.RunsDir, runId, "outputs"), count["path"]!.GetValue<string>(), StringComparison.Ordinal);

        var tasks = await _client.GetJsonAsync($"/runs/{runId}/tasks");
        SpecContract.AssertMatches(tasks, "TaskListResponse");
        var steps = tasks["task_logs"]!.AsArray();
        Assert.Equal(["shout", "count"], steps.Select(t => t!["id"]!.GetValue<string>()));
        Assert.All(steps, t => Assert.Equal(0, t!["exit_code"]!.GetValue<int>()));
        Assert.Equal("tr", steps[0]!["cmd"]![0]!.GetValue<string>());

        using var stdout = await _client.Http.GetAsync(new Uri(log["run_log"]!["stdout"]!.GetValue<string>()).PathAndQuery);
        var engineOutput = JsonNode.Parse(await stdout.Content.ReadAsStringAsync())!;
        Assert.Equal(log["outputs"]!.ToJsonString(), engineOutput.ToJsonString());
    }

    [Fact]
    public async Task ScatterExample_HasATaskPerScatteredJobAndListsItsOutputs()
    {
        var runId = await _client.SubmitAsync(RunRequestBuilder.ForExample("scatter", "workflow.cwl", "v1.2"));

        Assert.Equal("COMPLETE", await _client.WaitForTerminalAsync(runId));

        var log = await _client.GetJsonAsync($"/runs/{runId}");
        Assert.Equal("6", File.ReadAllText(log["outputs"]!["total"]!["path"]!.GetValue<string>()).Trim());
        Assert.StartsWith("file://", log["outputs"]!["total"]!["location"]!.GetValue<string>(), StringComparison.Ordinal);
        var tasks = (await _client.GetJsonAsync($"/runs/{runId}/tasks"))["task_logs"]!.AsArray();
        Assert.Equal(["count", "count_2", "count_3", "sum"], tasks.Select(t => t!["id"]!.GetValue<string>()).Order());
        var listed = (await _client.GetJsonAsync($"/runs/{runId}/outputs"))["files"]!.AsArray().Select(f => f!["path"]!.GetValue<string>());
        Assert.Equal(["a.count", "b.count", "c.count", "total.txt"], listed);
    }

    [Fact]
    public async Task HelloWorkflow_WritesItsGreeting()
    {
        var runId = await _client.SubmitAsync(RunRequestBuilder.ForExample("hello", "hello.cwl", "1.0").With("workflow_type", "cwl"));

        Assert.Equal("COMPLETE", await _client.WaitForTerminalAsync(runId));

        var output = (await _client.GetJsonAsync($"/runs/{runId}"))["outputs"]!["output"]!;
        Assert.Equal("Hello from WES", File.ReadAllText(output["path"]!.GetValue<string>()).Trim());
    }

    [Fact]
    public async Task FailingWorkflow_EndsExecutorError()
    {
        var runId = await _client.SubmitAsync(RunRequestBuilder.ForExample("fail", "fail.cwl", "v1.2"));

        Assert.Equal("EXECUTOR_ERROR", await _client.WaitForTerminalAsync(runId));

        var log = await _client.GetJsonAsync($"/runs/{runId}");
        SpecContract.AssertMatches(log, "RunLog");
        Assert.NotEqual(0, log["run_log"]!["exit_code"]!.GetValue<int>());
        Assert.Contains("exited with code", log["run_log"]!["system_logs"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        var task = (await _client.GetJsonAsync($"/runs/{runId}/tasks"))["task_logs"]!.AsArray().Single()!;
        Assert.Equal(3, task["exit_code"]!.GetValue<int>());
        using var stderr = await _client.Http.GetAsync(new Uri(log["run_log"]!["stderr"]!.GetValue<string>()).PathAndQuery);
        Assert.Contains("failing on purpose", await stderr.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancelRunningSleep_LeavesNoProcessBehind()
    {
        var seconds = Random.Shared.Next(100_000, 900_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var runId = await _client.SubmitAsync(RunRequestBuilder.ForExample("sleep", "sleep.cwl", "v1.2").With("workflow_params", $$"""{"seconds": {{seconds}}}"""));
        Assert.Equal("RUNNING", await _client.WaitForAsync(runId, "RUNNING"));
        await ProcessTable.WaitUntilAsync(() => ProcessTable.FindByCommandLine("sleep", seconds).Count == 1, TimeSpan.FromSeconds(30), "the sleep step runs");
        var enginePid = (await _factory.Service<RunStore>().GetAsync(runId, CancellationToken.None))!.EnginePid!.Value;

        (await _client.Http.PostAsync(_client.Url($"/runs/{runId}/cancel"), null)).EnsureSuccessStatusCode();

        Assert.Equal("CANCELED", await _client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(20)));
        // CANCELED is only recorded once the engine's whole process group is gone.
        Assert.Empty(ProcessTable.FindByCommandLine("sleep", seconds));
        Assert.Empty(ProcessTable.InGroup(enginePid));
        var step = (await _client.GetJsonAsync($"/runs/{runId}/tasks"))["task_logs"]!.AsArray().Single()!;
        Assert.NotNull(step["end_time"]);
        Assert.Contains("stopped before it finished", step["system_logs"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorkflowUrl_IsDownloadedOverHttp()
    {
        using var server = new LocalHttpServer(File.ReadAllText(Path.Combine(Examples.Root, "hello", "hello.cwl")));
        var runId = await _client.SubmitAsync(new RunRequestBuilder().WithoutAttachments().With("workflow_url", server.BaseUrl + "hello.cwl"));

        Assert.Equal("COMPLETE", await _client.WaitForTerminalAsync(runId));
        Assert.True(File.Exists(Path.Combine(_factory.RunsDir, runId, "downloaded", "hello.cwl")));
    }

    [Fact]
    public async Task CancelWhileInitializing_EndsCanceledWithoutRunningTheWorkflow()
    {
        using var server = new LocalHttpServer(File.ReadAllText(Path.Combine(Examples.Root, "hello", "hello.cwl")), hold: true);
        var runId = await _client.SubmitAsync(new RunRequestBuilder().WithoutAttachments().With("workflow_url", server.BaseUrl + "hello.cwl"));
        await server.Requested.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("INITIALIZING", await _client.StateAsync(runId));

        (await _client.Http.PostAsync(_client.Url($"/runs/{runId}/cancel"), null)).EnsureSuccessStatusCode();
        // The download is abandoned at once, so the run may already be CANCELED.
        Assert.Contains(await _client.StateAsync(runId), new[] { "CANCELING", "CANCELED" });
        server.Release();

        Assert.Equal("CANCELED", await _client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(20)));
        Assert.False(File.Exists(Path.Combine(_factory.RunsDir, runId, "outputs", "hello.txt")));
    }

    [Fact]
    public async Task OversizedDownload_EndsSystemErrorSayingWhy()
    {
        using var factory = new WesApplicationFactory(provider: "Local", workers: 1,
            settings: new Dictionary<string, string?>(AllowLoopbackFetch) { ["Wes:WorkflowDownloadMaxBytes"] = "16" });
        using var client = factory.CreateWesClient();
        using var server = new LocalHttpServer(new string('x', 1000));
        var runId = await client.SubmitAsync(new RunRequestBuilder().WithoutAttachments().With("workflow_url", server.BaseUrl + "big.cwl"));

        Assert.Equal("SYSTEM_ERROR", await client.WaitForTerminalAsync(runId));
        var logs = (await client.GetJsonAsync($"/runs/{runId}"))["run_log"]!["system_logs"]!.AsArray();
        Assert.Contains("larger than the 16-byte limit", logs.Single()!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingEngine_IsRefusedNamingTheInstalledEngines()
    {
        using var factory = new WesApplicationFactory(provider: "Local", workers: 0,
            services: s => s.AddSingleton<IWorkflowEngine>(new FakeEngine("wes-missing-engine", "wes-missing-engine")));
        using var client = factory.CreateWesClient();

        using var response = await new RunRequestBuilder().With("workflow_engine", "wes-missing-engine").SendAsync(client);

        var error = await JsonAssert.ErrorAsync(response, System.Net.HttpStatusCode.BadRequest);
        Assert.StartsWith("workflow_engine 'wes-missing-engine' is not installed on this server; available engines for CWL: cwltool",
            error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await client.CountRunsAsync());
    }

    [Fact]
    public async Task EngineRemovedAfterSubmission_EndsSystemErrorWithAnActionableMessage()
    {
        var program = Path.Combine(_factory.DataDir + "-engine", "wes-vanishing-engine");
        Directory.CreateDirectory(Path.GetDirectoryName(program)!);
        await File.WriteAllTextAsync(program, "#!/bin/sh\nexit 0\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        void AddEngine(IServiceCollection s) => s.AddSingleton<IWorkflowEngine>(new FakeEngine("vanishing", program));
        var dataDir = _factory.DataDir + "-vanish";
        string runId;
        using (var api = new WesApplicationFactory(provider: "Local", workers: 0, dataDir: dataDir, services: AddEngine))
        {
            using var client = api.CreateWesClient();
            runId = await client.SubmitAsync(new RunRequestBuilder().With("workflow_engine", "vanishing"));
        }

        File.Delete(program);
        using var executor = new WesApplicationFactory(provider: "Local", workers: 1, dataDir: dataDir, services: AddEngine);
        using var wes = executor.CreateWesClient();
        try
        {
            Assert.Equal("SYSTEM_ERROR", await wes.WaitForTerminalAsync(runId));
            var message = (await wes.GetJsonAsync($"/runs/{runId}"))["run_log"]!["system_logs"]![0]!.GetValue<string>();
            Assert.Equal($"{program} not found on PATH; install it with apt-get install -y vanishing, then resubmit the run.", message);
        }
        finally
        {
            TempDirectory.Delete(dataDir);
            TempDirectory.Delete(Path.GetDirectoryName(program)!);
        }
    }

    [Fact]
    public async Task UnusableRunDirectory_EndsSystemError()
    {
        string runId;
        using (var api = new WesApplicationFactory(provider: "Local", workers: 0, dataDir: _factory.DataDir + "-dir"))
        {
            using var client = api.CreateWesClient();
            runId = await client.SubmitAsync(new RunRequestBuilder());
            // A file where the run's folder belongs: nothing can be prepared in it.
            Directory.Delete(Path.Combine(api.RunsDir, runId), recursive: true);
            File.WriteAllText(Path.Combine(api.RunsDir, runId), "not a folder");
        }

        using var executor = new WesApplicationFactory(provider: "Local", workers: 1, dataDir: _factory.DataDir + "-dir");
        using var wes = executor.CreateWesClient();
        try
        {
            Assert.Equal("SYSTEM_ERROR", await wes.WaitForTerminalAsync(runId));
            var message = (await wes.GetJsonAsync($"/runs/{runId}"))["run_log"]!["system_logs"]![0]!.GetValue<string>();
            Assert.StartsWith("Could not prepare run directory", message, StringComparison.Ordinal);
        }
        finally
        {
            TempDirectory.Delete(executor.DataDir);
        }
    }
}
