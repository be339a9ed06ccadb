using System.Net;
using Wes.Execution;
using Wes.Providers;
using Wes.Providers.Remote;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Providers.Remote;

/// <summary>When a remote run fails, whether another attempt may post it again: never when it may still exist there.</summary>
public sealed class RemoteRetryTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string Status = "/ga4gh/wes/v1/runs/r1/status";
    private readonly string _runsDir = TempDirectory.Create("wes-remote-retry");

    public void Dispose() => TempDirectory.Delete(_runsDir);

    internal static ExecutionRequest Request(string runsDir, string runId = "front-1")
    {
        var run = new Run { RunId = runId, Provider = "rec", Engine = "cwltool", WorkflowType = "CWL", RequestJson = "{}", WorkflowUrl = "wf.cwl" };
        var workspace = new RunWorkspace(runsDir, runId);
        Directory.CreateDirectory(workspace.OutputsDir);
        return new ExecutionRequest(run, workspace, new RemoteEngine("rec", "cwltool", "CWL", [], true, null, null), new Dictionary<string, string>());
    }

    [Fact]
    public async Task A_single_404_while_the_remote_is_redeployed_does_not_end_the_follow()
    {
        var remote = new RecordedRemote().AnswerInTurn("GET", Status,
            (HttpStatusCode.NotFound, """{"msg": "starting up"}"""), (HttpStatusCode.OK, """{"run_id": "r1", "state": "COMPLETE"}"""));
        var poller = remote.Provider().Poller;

        var end = await poller.WaitForEndAsync("r1", CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(RunState.Complete, end.State);
        Assert.Equal(2, remote.Count("GET", Status));
    }

    [Fact]
    public async Task A_run_the_remote_keeps_answering_404_for_ends_after_a_few_polls_and_is_not_retried()
    {
        var remote = new RecordedRemote();

        var result = await remote.Provider().FollowAsync(Request(_runsDir), "wes-remote:rec:r1", CancellationToken.None, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(ExecutionOutcome.SystemError, result.Outcome);
        Assert.False(result.Retryable);
        Assert.Equal(3, remote.Count("GET", Status));
    }

    [Fact]
    public async Task A_run_the_remote_stops_reporting_ends_at_the_timeout_and_is_not_retried()
    {
        var remote = new RecordedRemote().Answer("GET", Status, """{"msg": "busy"}""", HttpStatusCode.ServiceUnavailable);

        var result = await remote.Provider(timeoutSeconds: 1).FollowAsync(Request(_runsDir), "wes-remote:rec:r1", CancellationToken.None, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(ExecutionOutcome.SystemError, result.Outcome);
        Assert.Contains("did not report run r1", result.Message, StringComparison.Ordinal);
        Assert.False(result.Retryable);
    }

    [Fact]
    public async Task A_handle_of_another_remote_is_not_retried()
    {
        var result = await new RecordedRemote().Provider().FollowAsync(Request(_runsDir), "wes-remote:other:r1", CancellationToken.None, CancellationToken.None);

        Assert.Equal(ExecutionOutcome.SystemError, result.Outcome);
        Assert.False(result.Retryable);
    }

    [Fact]
    public async Task A_run_canceled_at_the_remote_by_someone_else_is_not_retried()
    {
        var remote = new RecordedRemote()
            .Answer("GET", Status, """{"run_id": "r1", "state": "CANCELED"}""")
            .Answer("GET", "/ga4gh/wes/v1/runs/r1", """{"run_id": "r1", "state": "CANCELED", "run_log": {}}""");

        var result = await remote.Provider().FollowAsync(Request(_runsDir), "wes-remote:rec:r1", CancellationToken.None, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(ExecutionOutcome.SystemError, result.Outcome);
        Assert.Contains("ended run r1 CANCELED", result.Message, StringComparison.Ordinal);
        Assert.False(result.Retryable);
    }

    [Fact]
    public async Task A_submission_the_remote_refuses_is_not_retried()
    {
        var remote = new RecordedRemote().Answer("POST", "/ga4gh/wes/v1/runs", """{"msg": "no such workflow type"}""", HttpStatusCode.BadRequest);
        var request = Request(_runsDir);

        var error = await Assert.ThrowsAsync<PreparationException>(() => remote.Provider().StartAsync(request, new PreparedWork([]), CancellationToken.None));

        Assert.False(error.Retryable);
        Assert.Equal(1, remote.Count("POST", "/ga4gh/wes/v1/runs"));
    }
}
