using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Wes.Execution;
using Wes.Providers.Remote;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Providers.Remote;

/// <summary>What real WES servers send, each quirk with a body written for the test, read the way a remote run needs it.</summary>
public sealed class RemoteWesQuirkTests : IDisposable
{
    private readonly string _runsDir = TempDirectory.Create("wes-quirks");

    public void Dispose() => TempDirectory.Delete(_runsDir);

    [Fact]
    public void A_wes_1_0_service_info_with_versions_as_strings_is_read()
    {
        // WES 1.0 servers (Toil, older Cromwell) send plain strings for the versions.
        const string body = """
            {"workflow_type_versions": {"CWL": {"workflow_type_version": ["v1.0", "v1.1"]}, "WDL": {"workflow_type_version": null}},
             "supported_wes_versions": ["1.0.0"], "workflow_engine_versions": {"toil": "5.12.0", "cwltool": "3.1.20230201"},
             "system_state_counts": {}, "tags": {}}
            """;

        var info = RemoteWesAnswers.ServiceInfo(body);

        Assert.Equal(["5.12.0"], info.EngineVersions["toil"]);
        Assert.Equal(["v1.0", "v1.1"], info.TypeVersions["CWL"]);
        Assert.Empty(info.TypeVersions["WDL"]);
    }

    [Fact]
    public void A_wes_1_1_service_info_with_versions_as_objects_is_read()
    {
        const string body = """
            {"id": "x", "type": {"group": "org.ga4gh", "artifact": "wes", "version": "1.1.0"},
             "workflow_type_versions": {"CWL": {"workflow_type_version": ["v1.2"]}},
             "workflow_engine_versions": {"cwltool": {"workflow_engine_version": ["3.1.1", "3.1.2"]}, "cromwell": ["87"], "none": null}}
            """;

        var info = RemoteWesAnswers.ServiceInfo(body);

        Assert.Equal(["3.1.1", "3.1.2"], info.EngineVersions["cwltool"]);
        Assert.Equal(["87"], info.EngineVersions["cromwell"]);
        Assert.Empty(info.EngineVersions["none"]);
    }

    [Fact]
    public void A_listing_that_says_workflows_instead_of_runs_is_read()
    {
        const string body = """{"workflows": [{"run_id": "a", "state": "RUNNING"}, {"run_id": 7, "state": "complete"}, {"state": "QUEUED"}], "next_page_token": ""}""";

        var page = RemoteWesAnswers.Runs(body);

        Assert.Equal([("a", RunState.Running), ("7", RunState.Complete)], page.Items);
        Assert.Null(page.NextPageToken);
    }

    [Theory]
    [InlineData("""{"run_id": "r1", "state": "CANCELLED"}""", RunState.Canceled)]
    [InlineData("""{"run_id": "r1", "state": "executor_error"}""", RunState.ExecutorError)]
    [InlineData("""{"run_id": "r1", "state": null}""", RunState.Unknown)]
    [InlineData("""{"run_id": "r1"}""", RunState.Unknown)]
    [InlineData("""{"run_id": "r1", "state": "ABORTED"}""", RunState.Unknown)]
    public void Status_states_are_read_in_any_case_and_unknown_ones_as_unknown(string body, RunState expected) =>
        Assert.Equal(expected, RemoteWesAnswers.Status(body));

    [Fact]
    public async Task A_submission_answered_201_gives_the_run_id_even_as_a_number()
    {
        var remote = new RecordedRemote().Answer("POST", "/ga4gh/wes/v1/runs", """{"run_id": 12345}""", HttpStatusCode.Created);

        using var form = new MultipartFormDataContent();
        var runId = await remote.Client().SubmitAsync(form, "key-1", CancellationToken.None);

        Assert.Equal("12345", runId);
        Assert.Equal("key-1", remote.Requests.Single().Headers.GetValues("Idempotency-Key").Single());
    }

    [Fact]
    public async Task A_refusal_is_reported_with_the_remote_name_status_and_message()
    {
        var remote = new RecordedRemote().Answer("POST", "/ga4gh/wes/v1/runs", """{"msg": "workflow_type WDL is not supported", "status_code": 400}""", HttpStatusCode.BadRequest);

        using var form = new MultipartFormDataContent();
        var error = await Assert.ThrowsAsync<RemoteWesException>(() => remote.Client().SubmitAsync(form, "k", CancellationToken.None));

        Assert.True(error.IsRefusal);
        Assert.Contains("remote WES server 'rec' answered 400", error.Message, StringComparison.Ordinal);
        Assert.Contains("workflow_type WDL is not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_log_with_nulls_and_missing_optional_fields_is_read()
    {
        const string body = """
            {"run_id": "r1", "state": "COMPLETE", "outputs": null, "request": null, "task_logs": null,
             "run_log": {"name": null, "cmd": null, "start_time": "2026-12-01T10:00:00Z", "stdout": null, "exit_code": "0", "system_logs": null}}
            """;

        var log = RemoteWesAnswers.RunLog(body);

        Assert.Equal(RunState.Complete, log.State);
        Assert.Null(log.Outputs);
        Assert.Null(log.TaskLogs);
        Assert.Equal(0, log.RunLog!.ExitCode);
        Assert.Null(log.RunLog.Stdout);
        Assert.Empty(log.RunLog.SystemLogs);
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), log.RunLog.StartTime);
    }

    [Theory]
    [InlineData("runs/r1/stdout", "http://remote.test/ga4gh/wes/v1/runs/r1/stdout")]
    [InlineData("/ga4gh/wes/v1/runs/r1/stdout", "http://remote.test/ga4gh/wes/v1/runs/r1/stdout")]
    [InlineData("http://elsewhere.test/logs/r1.txt", "http://elsewhere.test/logs/r1.txt")]
    [InlineData("/cromwell-executions/wf/r1/call-a/execution/stdout", "http://remote.test/cromwell-executions/wf/r1/call-a/execution/stdout")]
    public void Relative_log_links_are_resolved_against_the_remote_base_url(string link, string expected) =>
        Assert.Equal(expected, RemoteWesAnswers.Link(new Uri(RecordedRemote.BaseUrl + "/"), link)!.AbsoluteUri);

    [Theory]
    [InlineData("file:///data/r1/stdout")]
    [InlineData("")]
    [InlineData(null)]
    public void Links_this_server_cannot_fetch_are_none(string? link) =>
        Assert.Null(RemoteWesAnswers.Link(new Uri(RecordedRemote.BaseUrl + "/"), link));

    [Fact]
    public async Task A_wes_1_0_remote_without_a_tasks_endpoint_has_its_task_logs_and_relative_log_links_copied_home()
    {
        // WES 1.0: the tasks are in the run log, there is no /tasks endpoint, and log links are relative.
        var remote = new RecordedRemote()
            .Answer("GET", "/ga4gh/wes/v1/runs/r1", """
                {"run_id": "r1", "state": "COMPLETE", "outputs": {"answer": 42},
                 "run_log": {"name": "wf", "stdout": "runs/r1/stdout", "stderr": "/ga4gh/wes/v1/runs/r1/stderr", "exit_code": 0},
                 "task_logs": [{"name": "step-one", "cmd": "echo hi", "stdout": "runs/r1/tasks/1/stdout", "exit_code": 0, "start_time": null},
                               {"name": null, "stdout": null, "stderr": "http://169.254.169.254/latest/meta-data"}]}
                """)
            .Answer("GET", "/ga4gh/wes/v1/runs/r1/stdout", "engine says hi\n")
            .Answer("GET", "/ga4gh/wes/v1/runs/r1/stderr", "engine warns\n")
            .Answer("GET", "/ga4gh/wes/v1/runs/r1/tasks/1/stdout", "hi\n");
        var workspace = new RunWorkspace(_runsDir, "front-1");
        Directory.CreateDirectory(workspace.OutputsDir);

        var collected = await new RemoteRunCollector(remote.Client(), new RemoteWesOptions(), NullLogger.Instance)
            .CollectAsync(workspace, "r1", CancellationToken.None);

        Assert.Equal(42, collected.Outputs!["answer"]!.GetValue<int>());
        Assert.Equal("engine says hi\n", File.ReadAllText(workspace.StdoutPath));
        Assert.Equal("engine warns\n", File.ReadAllText(workspace.StderrPath));
        var tasks = RemoteRunCollector.ReadTasks(workspace);
        Assert.Equal(["step-one", "task-2"], tasks.Select(t => t.TaskId));
        Assert.Equal("""["echo hi"]""", tasks[0].CmdJson);
        Assert.Equal("hi\n", File.ReadAllText(workspace.TaskLogPath("step-one", TaskLogStream.Stdout)));
        // A link to another host is never followed.
        Assert.Contains(collected.Notes, note => note.Contains("task task-2 stderr is on another host", StringComparison.Ordinal));
        Assert.DoesNotContain(remote.Requests, r => r.RequestUri!.Host == "169.254.169.254");
        // A remote without an output listing keeps its outputs where they are, and the run's log says so.
        Assert.Contains(collected.Notes, note => note.Contains("lists no output files", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Listed_output_files_are_copied_and_their_locations_point_at_the_copies()
    {
        var remote = new RecordedRemote()
            .Answer("GET", "/ga4gh/wes/v1/runs/r2", """
                {"run_id": "r2", "state": "COMPLETE",
                 "outputs": {"report": {"class": "File", "location": "file:///srv/wes/runs/r2/outputs/sub/report%20one.txt", "path": "/srv/wes/runs/r2/outputs/sub/report one.txt"}},
                 "run_log": {}}
                """)
            .Answer("GET", "/ga4gh/wes/v1/runs/r2/tasks?page_size=500", """{"task_logs": [], "next_page_token": null}""")
            .Answer("GET", "/ga4gh/wes/v1/runs/r2/outputs?page_size=500", """
                {"run_id": "r2", "files": [{"path": "sub/report one.txt", "size": 6, "url": "http://remote.test/ga4gh/wes/v1/runs/r2/outputs/sub/report%20one.txt"},
                                           {"path": "../escape.txt", "size": 1, "url": null}], "next_page_token": ""}
                """)
            .Answer("GET", "/ga4gh/wes/v1/runs/r2/outputs/sub/report%20one.txt", "report");
        var workspace = new RunWorkspace(_runsDir, "front-2");
        Directory.CreateDirectory(workspace.OutputsDir);

        var collected = await new RemoteRunCollector(remote.Client(), new RemoteWesOptions(), NullLogger.Instance)
            .CollectAsync(workspace, "r2", CancellationToken.None);

        var copy = Path.Combine(workspace.OutputsDir, "sub", "report one.txt");
        Assert.Equal("report", File.ReadAllText(copy));
        Assert.Equal(new Uri(copy).AbsoluteUri, collected.Outputs!["report"]!["location"]!.GetValue<string>());
        Assert.Equal(copy, collected.Outputs["report"]!["path"]!.GetValue<string>());
        Assert.False(File.Exists(Path.Combine(workspace.Root, "escape.txt")));
        Assert.Contains(collected.Notes, note => note.Contains("would leave the outputs folder", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tasks_of_a_run_still_going_are_read_without_their_logs_and_a_failing_read_changes_nothing()
    {
        var remote = new RecordedRemote()
            .Answer("GET", "/ga4gh/wes/v1/runs/r4", """{"run_id": "r4", "state": "RUNNING"}""")
            .Answer("GET", "/ga4gh/wes/v1/runs/r4/tasks?page_size=500", """
                {"task_logs": [{"id": "align", "name": "align", "start_time": "2026-12-01T10:00:00.123+01:00", "stdout": "runs/r4/tasks/align/stdout"}]}
                """);
        var workspace = new RunWorkspace(_runsDir, "front-4");
        Directory.CreateDirectory(workspace.Root);
        var collector = new RemoteRunCollector(remote.Client(), new RemoteWesOptions(), NullLogger.Instance);

        await collector.RefreshTasksAsync(workspace, "r4", CancellationToken.None);
        await collector.RefreshTasksAsync(workspace, "unknown", CancellationToken.None);

        var task = Assert.Single(RemoteRunCollector.ReadTasks(workspace));
        Assert.Equal("align", task.TaskId);
        Assert.Null(task.EndTime);
        Assert.NotNull(task.StartTime);
        Assert.False(File.Exists(workspace.TaskLogPath("align", TaskLogStream.Stdout)));
        Assert.DoesNotContain(remote.Requests, r => r.RequestUri!.AbsolutePath.EndsWith("/stdout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_token_goes_to_the_remote_only_never_to_links_on_other_hosts()
    {
        var remote = new RecordedRemote().Answer("GET", "/ga4gh/wes/v1/runs/r3/status", """{"run_id": "r3", "state": "RUNNING"}""");
        var client = remote.Client(token: "s3cret");

        Assert.Equal(RunState.Running, await client.GetStatusAsync("r3", CancellationToken.None));
        await Assert.ThrowsAsync<RemoteWesException>(() =>
            client.DownloadAsync(new Uri("http://elsewhere.test/file"), Path.Combine(_runsDir, "f"), 100, CancellationToken.None));

        Assert.Equal("Bearer s3cret", remote.Requests[0].Headers.Authorization!.ToString());
        Assert.Null(remote.Requests[1].Headers.Authorization);
    }
}
