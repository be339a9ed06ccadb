using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Wes.Execution;
using Wes.Providers;
using Wes.Providers.Remote;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Providers.Remote;

/// <summary>A remote that misbehaves (stalls, odd answers, endless pages, refusals) never wedges a run nor gets it twice.</summary>
public sealed class RemoteHardeningTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string Runs = "/ga4gh/wes/v1/runs";
    private readonly string _runsDir = TempDirectory.Create("wes-remote-hardening");

    public void Dispose() => TempDirectory.Delete(_runsDir);

    [Fact]
    public async Task A_post_the_remote_took_with_an_unreadable_answer_is_never_posted_again()
    {
        var remote = new RecordedRemote().Answer("POST", Runs, "<html>queued</html>", HttpStatusCode.Created);

        var error = await Assert.ThrowsAsync<PreparationException>(() =>
            remote.Provider().StartAsync(RemoteRetryTests.Request(_runsDir), new PreparedWork([]), CancellationToken.None));

        Assert.False(error.Retryable);
        Assert.Contains("remote WES server 'rec'", error.Message, StringComparison.Ordinal);
        Assert.Contains("<html>queued", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, remote.Count("POST", Runs));
    }

    [Fact]
    public async Task A_post_that_failed_is_not_repeated_when_the_remote_lists_a_run_an_earlier_try_made()
    {
        var remote = new RecordedRemote()
            .Answer("POST", Runs, """{"msg": "overloaded"}""", HttpStatusCode.ServiceUnavailable)
            .Answer("GET", Runs + "?page_size=100", """
                {"runs": [{"run_id": "other", "state": "RUNNING", "tags": {"wes.forwarded_run_id": "front-2"}},
                          {"run_id": "r9", "state": "QUEUED", "tags": {"wes.forwarded_run_id": "front-1"}}]}
                """);

        var handle = await remote.Provider().StartAsync(RemoteRetryTests.Request(_runsDir), new PreparedWork([]), CancellationToken.None);

        Assert.Equal("wes-remote:rec:r9", handle);
        Assert.Equal(1, remote.Count("POST", Runs));
    }

    [Fact]
    public async Task A_status_answer_whose_body_stalls_fails_at_the_call_timeout()
    {
        var remote = new RecordedRemote().Stall("GET", Runs + "/r1/status");

        var error = await Assert.ThrowsAsync<RemoteWesException>(() => remote.Client(timeoutSeconds: 2).GetStatusAsync("r1", CancellationToken.None)).WaitAsync(Patience);

        Assert.Null(error.StatusCode);
    }

    [Fact]
    public async Task A_download_that_stops_sending_fails_instead_of_waiting_forever()
    {
        var remote = new RecordedRemote().Stall("GET", Runs + "/r1/stdout");

        await Assert.ThrowsAsync<RemoteWesException>(() =>
            remote.Client(timeoutSeconds: 2).DownloadAsync(new Uri(RecordedRemote.BaseUrl + "/runs/r1/stdout"), Path.Combine(_runsDir, "out"), 1000, CancellationToken.None))
            .WaitAsync(Patience);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("7")]
    [InlineData("""{"state": "RUNNING", "state": "COMPLETE"}""")]
    public void Answers_of_any_unusual_shape_are_json_errors(string body)
    {
        Assert.Throws<JsonException>(() => RemoteWesAnswers.Status(body));
        Assert.Throws<JsonException>(() => RemoteWesAnswers.RunLog(body));
    }

    [Fact]
    public async Task A_run_whose_status_is_an_array_still_ends_at_its_timeout()
    {
        var remote = new RecordedRemote().Answer("GET", Runs + "/r1/status", "[]");
        var provider = remote.Provider(timeoutSeconds: 1);

        var end = await provider.Poller.WaitForEndAsync("r1", CancellationToken.None).WaitAsync(Patience);

        Assert.Null(end.State);
        Assert.Contains("did not report run r1", end.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Task_pages_stop_when_the_remote_repeats_its_page_token()
    {
        const string page = """{"task_logs": [{"id": "a"}], "next_page_token": "again"}""";
        var remote = new RecordedRemote()
            .Answer("GET", Runs + "/r1", """{"run_id": "r1", "state": "RUNNING"}""")
            .Answer("GET", Runs + "/r1/tasks?page_size=500", page)
            .Answer("GET", Runs + "/r1/tasks?page_size=500&page_token=again", page);
        var workspace = new RunWorkspace(_runsDir, "front-1");
        Directory.CreateDirectory(workspace.Root);

        await new RemoteRunCollector(remote.Client(), new RemoteWesOptions(), NullLogger.Instance)
            .RefreshTasksAsync(workspace, "r1", CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(1, remote.Count("GET", Runs + "/r1/tasks?page_size=500&page_token=again"));
    }

    [Fact]
    public async Task A_cancel_the_remote_refuses_while_the_run_goes_on_there_is_not_recorded()
    {
        var remote = new RecordedRemote()
            .Answer("GET", Runs + "/r1/status", """{"run_id": "r1", "state": "RUNNING"}""")
            .Answer("POST", Runs + "/r1/cancel", """{"msg": "not yours"}""", HttpStatusCode.Forbidden);
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            remote.Provider(timeoutSeconds: 1).FollowAsync(RemoteRetryTests.Request(_runsDir), "wes-remote:rec:r1", cancel.Token, CancellationToken.None))
            .WaitAsync(Patience);

        Assert.IsNotAssignableFrom<OperationCanceledException>(error);
        Assert.Contains("refused the cancel of run r1, which still runs there", error.Message, StringComparison.Ordinal);
        Assert.True(remote.Count("GET", Runs + "/r1/status") >= 1);
    }

    [Fact]
    public async Task Listing_entries_without_a_state_are_not_taken_for_the_run_status()
    {
        var ids = Enumerable.Range(1, 8).Select(i => $"s{i}").ToList();
        var remote = new RecordedRemote().Answer("GET", Runs + "?page_size=16",
            JsonSerializer.Serialize(new { runs = ids.Select(id => new { run_id = id }) }));
        foreach (var id in ids)
        {
            remote.Answer("GET", $"{Runs}/{id}/status", $$"""{"run_id": "{{id}}", "state": "COMPLETE"}""");
        }

        var poller = remote.Provider().Poller;
        var ends = await Task.WhenAll(ids.Select(id => poller.WaitForEndAsync(id, CancellationToken.None))).WaitAsync(Patience);

        Assert.All(ends, end => Assert.Equal(RunState.Complete, end.State));
        Assert.All(ids, id => Assert.True(remote.Count("GET", $"{Runs}/{id}/status") >= 1));
    }
}
