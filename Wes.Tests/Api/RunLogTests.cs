using System.Net;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

public sealed class RunLogTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 2);
    private readonly WesClient _client;

    public RunLogTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task CompletedRun_HasAFullRunLogThatMatchesTheSpec()
    {
        var runId = await _client.SubmitAsync(new RunRequestBuilder().WithTags("""{"project": "p1"}"""));
        Assert.Equal("COMPLETE", await _client.WaitForTerminalAsync(runId));

        var log = await _client.GetJsonAsync($"/runs/{runId}");

        SpecContract.AssertMatches(log, "RunLog");
        Assert.Equal(runId, log["run_id"]!.GetValue<string>());
        Assert.Equal("p1", log["request"]!["tags"]!["project"]!.GetValue<string>());
        var runLog = log["run_log"]!;
        Assert.Equal(0, runLog["exit_code"]!.GetValue<int>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", runLog["start_time"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", runLog["end_time"]!.GetValue<string>());
        Assert.NotEmpty(runLog["cmd"]!.AsArray());
        Assert.True(log["outputs"]!["mock"]!.GetValue<bool>());
        Assert.Equal($"http://localhost/ga4gh/wes/v1/runs/{runId}/tasks", log["task_logs_url"]!.GetValue<string>());
        Assert.False(log.AsObject().ContainsKey("task_logs"));
    }

    [Fact]
    public async Task LogUrls_ReturnTheEngineOutputAsText()
    {
        var runId = await _client.SubmitAsync(new RunRequestBuilder());
        await _client.WaitForTerminalAsync(runId);
        var runLog = (await _client.GetJsonAsync($"/runs/{runId}"))["run_log"]!;

        var stdoutUrl = new Uri(runLog["stdout"]!.GetValue<string>());
        var stderrUrl = new Uri(runLog["stderr"]!.GetValue<string>());
        using var stdout = await _client.Http.GetAsync(stdoutUrl.PathAndQuery);
        using var stderr = await _client.Http.GetAsync(stderrUrl.PathAndQuery);

        Assert.Equal("text/plain", stdout.Content.Headers.ContentType?.MediaType);
        Assert.Equal(File.ReadAllText(Path.Combine(_factory.RunsDir, runId, "stdout.log")), await stdout.Content.ReadAsStringAsync());
        Assert.Contains("mock: running hello.cwl", await stderr.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusAndTasks_MatchTheSpec()
    {
        var runId = await _client.SubmitAsync(new RunRequestBuilder());
        await _client.WaitForTerminalAsync(runId);

        var status = await _client.GetJsonAsync($"/runs/{runId}/status");
        var tasks = await _client.GetJsonAsync($"/runs/{runId}/tasks");
        var task = await _client.GetJsonAsync($"/runs/{runId}/tasks/engine");

        SpecContract.AssertMatches(status, "RunStatus");
        SpecContract.AssertMatches(tasks, "TaskListResponse");
        SpecContract.AssertMatches(task, "TaskLog");
        Assert.Equal("engine", tasks["task_logs"]!.AsArray().Single()!["id"]!.GetValue<string>());
        Assert.Equal(0, task["exit_code"]!.GetValue<int>());
        Assert.Equal("", tasks["next_page_token"]!.GetValue<string>());
        await JsonAssert.ErrorAsync(await _client.GetAsync($"/runs/{runId}/tasks/nope"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task FailedRun_RecordsExitCodeAndSystemLogs()
    {
        var executorError = await _client.SubmitAsync(new RunRequestBuilder().WithTags("""{"wes.mock.outcome": "EXECUTOR_ERROR", "wes.mock.exit_code": "7"}"""));
        var systemError = await _client.SubmitAsync(new RunRequestBuilder().WithTags("""{"wes.mock.outcome": "SYSTEM_ERROR"}"""));

        Assert.Equal("EXECUTOR_ERROR", await _client.WaitForTerminalAsync(executorError));
        Assert.Equal("SYSTEM_ERROR", await _client.WaitForTerminalAsync(systemError));
        var failed = (await _client.GetJsonAsync($"/runs/{executorError}"))["run_log"]!;
        Assert.Equal(7, failed["exit_code"]!.GetValue<int>());
        Assert.Contains("exited with code 7", failed["system_logs"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        var system = await _client.GetJsonAsync($"/runs/{systemError}");
        SpecContract.AssertMatches(system, "RunLog");
        Assert.Contains("system error", system["run_log"]!["system_logs"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
