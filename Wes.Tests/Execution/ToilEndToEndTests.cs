using System.Globalization;
using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>
/// Real toil-cwl-runner runs, kept to the three that matter (a scatter workflow, a failure, a cancel) because each
/// Toil run takes several seconds. The server here has a public base URL, so output locations are download links.
/// </summary>
public sealed class ToilEndToEndTests : IDisposable
{
    private const string PublicBase = "https://wes.example.org";
    private readonly WesApplicationFactory _factory = new(provider: "Local", workers: 2,
        settings: new Dictionary<string, string?> { ["Wes:PublicBaseUrl"] = PublicBase });
    private readonly WesClient _client;

    public ToilEndToEndTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task ScatterExample_RunsOnToilWithATaskPerJobAndDownloadableOutputs()
    {
        var runId = await _client.SubmitAsync(RunRequestBuilder.ForExample("scatter", "workflow.cwl", "v1.2")
            .With("workflow_engine", "toil").With("workflow_engine_parameters", """{"toil:batchSystem": "single_machine", "retryCount": "0"}"""));

        Assert.Equal("COMPLETE", await _client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(120)));

        var log = await _client.GetJsonAsync($"/runs/{runId}");
        SpecContract.AssertMatches(log, "RunLog");
        var cmd = log["run_log"]!["cmd"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.EndsWith("toil-cwl-runner", cmd[0], StringComparison.Ordinal);
        Assert.Equal("single_machine", cmd[cmd.IndexOf("--batchSystem") + 1]);
        var total = log["outputs"]!["total"]!;
        var outputsUrl = $"{PublicBase}/ga4gh/wes/v1/runs/{runId}/outputs";
        Assert.Equal(outputsUrl + "/total.txt", total["location"]!.GetValue<string>());
        Assert.Equal(3, log["outputs"]!["counts"]!.AsArray().Count);

        var onDisk = Path.Combine(_factory.RunsDir, runId, "outputs", "total.txt");
        Assert.Equal("6", (await File.ReadAllTextAsync(onDisk)).Trim());
        using var download = await _client.Http.GetAsync(_client.Url($"/runs/{runId}/outputs/total.txt"));
        Assert.Equal(await File.ReadAllBytesAsync(onDisk), await download.Content.ReadAsByteArrayAsync());
        var listed = (await _client.GetJsonAsync($"/runs/{runId}/outputs"))["files"]!.AsArray().Select(f => f!["path"]!.GetValue<string>());
        Assert.Equal(["a.count", "b.count", "c.count", "total.txt"], listed);

        var tasks = await _client.GetJsonAsync($"/runs/{runId}/tasks");
        SpecContract.AssertMatches(tasks, "TaskListResponse");
        var jobs = tasks["task_logs"]!.AsArray().Select(t => t!).ToList();
        Assert.Equal(4, jobs.Count);
        Assert.Equal(3, jobs.Count(t => t["name"]!.GetValue<string>().EndsWith("count.cwl", StringComparison.Ordinal)));
        Assert.All(jobs, t => Assert.Equal(0, t["exit_code"]!.GetValue<int>()));
        Assert.All(jobs, t => Assert.NotNull(t["end_time"]));
        var sum = jobs.Single(t => t["name"]!.GetValue<string>().EndsWith("sum.cwl", StringComparison.Ordinal));
        Assert.Equal("sh", sum["cmd"]![0]!.GetValue<string>());
        Assert.StartsWith(PublicBase, sum["stderr"]!.GetValue<string>(), StringComparison.Ordinal);
        using var jobLog = await _client.Http.GetAsync(new Uri(sum["stderr"]!.GetValue<string>()).PathAndQuery);
        Assert.Contains("completed success", await jobLog.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailingTool_EndsExecutorErrorWithTheToolsExitCodeAndLog()
    {
        var runId = await _client.SubmitAsync(RunRequestBuilder.ForExample("fail", "fail.cwl", "v1.2")
            .With("workflow_engine", "toil").With("workflow_engine_parameters", """{"retryCount": "0"}"""));

        Assert.Equal("EXECUTOR_ERROR", await _client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(120)));

        var log = await _client.GetJsonAsync($"/runs/{runId}");
        SpecContract.AssertMatches(log, "RunLog");
        Assert.NotEqual(0, log["run_log"]!["exit_code"]!.GetValue<int>());
        var task = (await _client.GetJsonAsync($"/runs/{runId}/tasks"))["task_logs"]!.AsArray().Single()!;
        Assert.Equal("fail.cwl", task["id"]!.GetValue<string>());
        Assert.Equal(3, task["exit_code"]!.GetValue<int>());
        using var jobLog = await _client.Http.GetAsync(_client.Url($"/runs/{runId}/tasks/fail.cwl/stderr"));
        Assert.Contains("failing on purpose", await jobLog.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancelRunningToil_LeavesNoProcessBehind()
    {
        var seconds = Random.Shared.Next(100_000, 900_000).ToString(CultureInfo.InvariantCulture);
        var runId = await _client.SubmitAsync(RunRequestBuilder.ForExample("sleep", "sleep.cwl", "v1.2")
            .With("workflow_engine", "toil").With("workflow_params", $$"""{"seconds": {{seconds}}}"""));
        Assert.Equal("RUNNING", await _client.WaitForAsync(runId, "RUNNING"));
        await ProcessTable.WaitUntilAsync(() => ProcessTable.FindByCommandLine("sleep", seconds).Count == 1, TimeSpan.FromSeconds(60), "the tool sleeps");
        var enginePid = (await _factory.Service<RunStore>().GetAsync(runId, CancellationToken.None))!.EnginePid!.Value;

        (await _client.Http.PostAsync(_client.Url($"/runs/{runId}/cancel"), null)).EnsureSuccessStatusCode();

        Assert.Equal("CANCELED", await _client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(30)));
        // Toil runs each job in a session of its own, out of reach of the engine's process group.
        Assert.Empty(ProcessTable.FindByCommandLine("sleep", seconds));
        Assert.Empty(ProcessTable.InGroup(enginePid));
        var task = (await _client.GetJsonAsync($"/runs/{runId}/tasks"))["task_logs"]!.AsArray().Single()!;
        Assert.Equal("sleep.cwl", task["id"]!.GetValue<string>());
        Assert.NotNull(task["end_time"]);
    }
}
