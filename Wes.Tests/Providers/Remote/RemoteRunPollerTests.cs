using System.Net;
using Wes.Runs;

namespace Wes.Tests.Providers.Remote;

/// <summary>The one poller of a remote: it ends each followed run on the remote's word, or on its silence.</summary>
public sealed class RemoteRunPollerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Runs_end_with_the_state_the_remote_reports_and_one_loop_polls_them_all()
    {
        var remote = new RecordedRemote()
            .Answer("GET", "/ga4gh/wes/v1/runs/a/status", """{"run_id": "a", "state": "COMPLETE"}""")
            .Answer("GET", "/ga4gh/wes/v1/runs/b/status", """{"run_id": "b", "state": "EXECUTOR_ERROR"}""");
        var poller = remote.Poller();

        var ends = await Task.WhenAll(poller.WaitForEndAsync("a", CancellationToken.None), poller.WaitForEndAsync("b", CancellationToken.None))
            .WaitAsync(Patience);

        Assert.Equal([RunState.Complete, RunState.ExecutorError], ends.Select(e => e.State));
        Assert.Equal(0, poller.Watched);
        // Each run was asked about once: one loop, not one per follower.
        Assert.Equal(1, remote.Count("GET", "/ga4gh/wes/v1/runs/a/status"));
        Assert.Equal(1, remote.Count("GET", "/ga4gh/wes/v1/runs/b/status"));
    }

    [Fact]
    public async Task Many_followed_runs_are_read_from_the_remote_listing_instead_of_a_call_each()
    {
        var ids = Enumerable.Range(1, 10).Select(i => $"r{i}").ToList();
        var listing = new System.Text.Json.Nodes.JsonObject
        {
            // An older server's name for the list.
            ["workflows"] = new System.Text.Json.Nodes.JsonArray(ids.Select(id => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["run_id"] = id, ["state"] = "COMPLETE",
            }).ToArray()),
        };
        var remote = new RecordedRemote().Answer("GET", "/ga4gh/wes/v1/runs?page_size=20", listing.ToJsonString());
        var poller = remote.Poller();

        var ends = await Task.WhenAll(ids.Select(id => poller.WaitForEndAsync(id, CancellationToken.None))).WaitAsync(Patience);

        Assert.All(ends, end => Assert.Equal(RunState.Complete, end.State));
        Assert.DoesNotContain(remote.Requests, r => r.RequestUri!.AbsolutePath.EndsWith("/status", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_run_the_remote_no_longer_knows_ends_with_a_problem_naming_the_remote_and_its_answer()
    {
        var poller = new RecordedRemote().Poller();

        var end = await poller.WaitForEndAsync("gone", CancellationToken.None).WaitAsync(Patience);

        Assert.Null(end.State);
        Assert.Contains("remote WES server 'rec' answered 404", end.Problem, StringComparison.Ordinal);
        Assert.Contains("no longer knows run gone", end.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_remote_that_keeps_failing_ends_the_run_after_its_timeout_with_its_last_answer()
    {
        var remote = new RecordedRemote()
            .Answer("GET", "/ga4gh/wes/v1/runs/slow/status", """{"msg": "database is locked", "status_code": 503}""", HttpStatusCode.ServiceUnavailable);
        var poller = remote.Poller(timeoutSeconds: 1);

        var end = await poller.WaitForEndAsync("slow", CancellationToken.None).WaitAsync(Patience);

        Assert.Null(end.State);
        Assert.Contains("did not report run slow", end.Problem, StringComparison.Ordinal);
        Assert.Contains("TimeoutSeconds 1", end.Problem, StringComparison.Ordinal);
        Assert.Contains("database is locked", end.Problem, StringComparison.Ordinal);
        // It asked more than once before giving up.
        Assert.True(remote.Requests.Count > 1);
    }

    [Fact]
    public async Task A_follower_that_stops_waiting_stops_the_polling_of_its_run()
    {
        var remote = new RecordedRemote().Answer("GET", "/ga4gh/wes/v1/runs/long/status", """{"run_id": "long", "state": "RUNNING"}""");
        var poller = remote.Poller();
        using var leave = new CancellationTokenSource();
        var waiting = poller.WaitForEndAsync("long", leave.Token);
        await Support.ProcessTable.WaitUntilAsync(() => remote.Requests.Count > 0, Patience, "the run is polled");

        await leave.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, poller.Watched);
        // A run still followed shows the loop goes on; the one left behind gets at most the round already under way.
        var askedAtLeave = remote.Count("GET", "/ga4gh/wes/v1/runs/long/status");
        remote.Answer("GET", "/ga4gh/wes/v1/runs/other/status", """{"run_id": "other", "state": "RUNNING"}""");
        using var stopOther = new CancellationTokenSource();
        var other = poller.WaitForEndAsync("other", stopOther.Token);
        await Support.ProcessTable.WaitUntilAsync(() => remote.Count("GET", "/ga4gh/wes/v1/runs/other/status") >= 3, Patience, "the other run is polled");
        Assert.True(remote.Count("GET", "/ga4gh/wes/v1/runs/long/status") <= askedAtLeave + 1);
        await stopOther.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => other);
    }
}
