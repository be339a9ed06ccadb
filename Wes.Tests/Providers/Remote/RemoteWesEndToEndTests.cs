using System.Net;
using Wes.Tests.Support;

namespace Wes.Tests.Providers.Remote;

/// <summary>
/// A front server forwarding runs to a second real instance of this server that runs cwltool: results, logs and
/// output files come back through the front; cancels, restarts on either side and a dead remote are survived or
/// reported by name.
/// </summary>
[Collection("RemoteWes")]
public sealed class RemoteWesEndToEndTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_forwarded_run_completes_with_its_outputs_tasks_and_logs_served_by_the_front()
    {
        await using var pair = new RemotePair();
        using var remote = await pair.StartRemoteAsync();
        using var front = await pair.StartFrontAsync();

        var runId = await front.SubmitAsync(RunRequestBuilder.ForExample("pipeline", "workflow.cwl", "v1.2"));

        Assert.Equal("COMPLETE", await front.WaitForTerminalAsync(runId, Timeout));
        var remoteRunId = await RemotePair.RemoteRunIdAsync(front, runId);
        Assert.Equal("COMPLETE", await remote.StateAsync(remoteRunId));
        // What the remote reports, read before it goes: its tasks and the run's stdout and stderr.
        var remoteTasks = TaskNames((await remote.GetJsonAsync($"/runs/{remoteRunId}/tasks"))["task_logs"]!.AsArray());
        var remoteLog = (await remote.GetJsonAsync($"/runs/{remoteRunId}"))["run_log"]!;
        var remoteStdout = await remote.Http.GetByteArrayAsync(remoteLog["stdout"]!.GetValue<string>());
        var remoteStderr = await remote.Http.GetByteArrayAsync(remoteLog["stderr"]!.GetValue<string>());
        var log = await front.GetJsonAsync($"/runs/{runId}");
        Assert.Equal(0, log["run_log"]!["exit_code"]!.GetValue<int>());

        // The output file is served by the front, even with the remote gone.
        pair.Remote!.Dispose();
        var location = log["outputs"]!["count"]!["location"]!.GetValue<string>();
        Assert.StartsWith($"{pair.FrontUrl}/ga4gh/wes/v1/runs/{runId}/outputs/", location, StringComparison.Ordinal);
        Assert.Equal("9", (await front.Http.GetStringAsync(location)).Trim());
        var listed = (await front.GetJsonAsync($"/runs/{runId}/outputs"))["files"]!.AsArray().Select(f => f!["path"]!.GetValue<string>()).ToList();
        Assert.Contains(listed, path => path.Contains("upper", StringComparison.Ordinal));

        // The run's logs are the remote's, byte for byte; cwltool prints the outputs object on stdout.
        var stdout = await front.Http.GetByteArrayAsync(log["run_log"]!["stdout"]!.GetValue<string>());
        Assert.Equal(remoteStdout, stdout);
        Assert.Contains("\"count\"", System.Text.Encoding.UTF8.GetString(stdout), StringComparison.Ordinal);
        Assert.Equal(remoteStderr, await front.Http.GetByteArrayAsync(log["run_log"]!["stderr"]!.GetValue<string>()));

        // The front lists the remote's tasks. cwltool keeps no log per task, so their copying is covered by
        // RemoteWesQuirkTests.A_wes_1_0_remote_without_a_tasks_endpoint_has_its_task_logs_and_relative_log_links_copied_home.
        var tasks = (await front.GetJsonAsync($"/runs/{runId}/tasks"))["task_logs"]!.AsArray();
        Assert.Equal(["shout", "count"], tasks.Select(t => t!["id"]!.GetValue<string>()));
        Assert.Equal(remoteTasks, TaskNames(tasks));
        Assert.All(tasks, t => Assert.Equal(0, t!["exit_code"]!.GetValue<int>()));
    }

    private static List<(string? Id, string? Name)> TaskNames(System.Text.Json.Nodes.JsonArray tasks) =>
        tasks.Select(t => (t!["id"]?.GetValue<string>(), t["name"]?.GetValue<string>())).ToList();

    [Fact]
    public async Task A_run_that_fails_at_the_remote_ends_executor_error_at_the_front_with_its_stderr()
    {
        await using var pair = new RemotePair();
        using var remote = await pair.StartRemoteAsync();
        pair.FrontSettings["DEFAULT_WES_PROVIDER"] = "Local";
        using var front = await pair.StartFrontAsync();

        var runId = await front.SubmitAsync(RunRequestBuilder.ForExample("fail", "fail.cwl", "v1.2")
            .WithTags($$"""{"wes.provider": "{{RemotePair.RemoteName}}"}"""));

        Assert.Equal("EXECUTOR_ERROR", await front.WaitForTerminalAsync(runId, Timeout));
        var log = await front.GetJsonAsync($"/runs/{runId}");
        Assert.Contains(log["run_log"]!["system_logs"]!.AsArray(), line => line!.GetValue<string>().Contains(
            $"remote WES server '{RemotePair.RemoteName}' ended run", StringComparison.Ordinal));
        var stderr = await front.Http.GetStringAsync(log["run_log"]!["stderr"]!.GetValue<string>());
        Assert.Contains("failing on purpose", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancel_at_the_front_cancels_the_remote_run_and_leaves_no_process_there()
    {
        await using var pair = new RemotePair();
        using var remote = await pair.StartRemoteAsync();
        using var front = await pair.StartFrontAsync();
        var seconds = 700 + Random.Shared.Next(200);
        var runId = await front.SubmitAsync(RemotePair.SleepThenWrite(seconds));
        var remoteRunId = await RemotePair.RemoteRunIdAsync(front, runId);
        await remote.WaitForAsync(remoteRunId, "RUNNING", Timeout);
        await ProcessTable.WaitUntilAsync(() => ProcessTable.FindByCommandLine("sleep", $"{seconds}").Count > 0, Timeout, "the step sleeps at the remote");

        var cancel = await front.Http.PostAsync(front.Url($"/runs/{runId}/cancel"), null);

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("CANCELED", await front.WaitForTerminalAsync(runId, Timeout));
        Assert.Equal("CANCELED", await remote.StateAsync(remoteRunId));
        Assert.Empty(ProcessTable.FindByCommandLine("sleep", $"{seconds}"));
    }

    [Fact]
    public async Task A_run_survives_the_remote_restarting_mid_run()
    {
        await using var pair = new RemotePair(timeoutSeconds: 60);
        using var remote = await pair.StartRemoteAsync();
        using var front = await pair.StartFrontAsync();
        var runId = await front.SubmitAsync(RemotePair.SleepThenWrite(3));
        var remoteRunId = await RemotePair.RemoteRunIdAsync(front, runId);
        await remote.WaitForAsync(remoteRunId, "RUNNING", Timeout);

        // A graceful stop hands the remote run back to its queue; the restarted remote runs it again.
        pair.Remote!.Signal("TERM");
        await pair.Remote.WaitForExitAsync(Timeout);
        using var restarted = await pair.StartRemoteAsync();

        Assert.Equal("COMPLETE", await front.WaitForTerminalAsync(runId, Timeout));
        var log = await front.GetJsonAsync($"/runs/{runId}");
        Assert.Equal("rested", (await front.Http.GetStringAsync(log["outputs"]!["rested"]!["location"]!.GetValue<string>())).Trim());
        Assert.Equal(1, await restarted.CountRunsAsync());
    }

    [Fact]
    public async Task A_remote_that_cannot_be_reached_ends_the_run_system_error_naming_it()
    {
        await using var pair = new RemotePair(timeoutSeconds: 2);
        using var front = await pair.StartFrontAsync();

        var runId = await front.SubmitAsync(RunRequestBuilder.ForExample("hello", "hello.cwl", "v1.0"));

        Assert.Equal("SYSTEM_ERROR", await front.WaitForTerminalAsync(runId, Timeout));
        var log = await front.GetJsonAsync($"/runs/{runId}");
        var message = string.Join("\n", log["run_log"]!["system_logs"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Contains($"remote WES server '{RemotePair.RemoteName}'", message, StringComparison.Ordinal);
        Assert.Contains("TimeoutSeconds", message, StringComparison.Ordinal);
        Assert.Contains(pair.RemoteUrl, message, StringComparison.Ordinal);
        // Each try was logged before the run was given up.
        Assert.Contains("trying again", pair.Front!.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_front_killed_mid_run_follows_its_remote_run_again_after_a_restart()
    {
        await using var pair = new RemotePair();
        using var remote = await pair.StartRemoteAsync();
        var front = await pair.StartFrontAsync();
        var runId = await front.SubmitAsync(RemotePair.SleepThenWrite(4));
        var remoteRunId = await RemotePair.RemoteRunIdAsync(front, runId);
        front.Dispose();

        pair.Front!.Signal("KILL");
        await pair.Front.WaitForExitAsync(Timeout);
        using var again = await pair.StartFrontAsync();

        Assert.Equal("COMPLETE", await again.WaitForTerminalAsync(runId, Timeout));
        Assert.Equal("COMPLETE", await remote.StateAsync(remoteRunId));
        // Followed again, not started over: the remote has the one run.
        Assert.Equal(1, await remote.CountRunsAsync());
        var log = await again.GetJsonAsync($"/runs/{runId}");
        Assert.Equal("rested", (await again.Http.GetStringAsync(log["outputs"]!["rested"]!["location"]!.GetValue<string>())).Trim());
    }
}

[CollectionDefinition("RemoteWes", DisableParallelization = true)]
public sealed class RemoteWesCollection;
