using Wes.Persistence;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

public sealed class CancelTests
{
    [Fact]
    public async Task CancelQueuedRun_EndsItCanceledAtOnce()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder());

        var answer = await CancelAsync(client, runId);

        Assert.Equal(runId, answer);
        Assert.Equal("CANCELED", await client.StateAsync(runId));
        SpecContract.AssertMatches(await client.GetJsonAsync($"/runs/{runId}"), "RunLog");
    }

    [Fact]
    public async Task CancelRunningRun_StopsTheEngineThenEndsCanceled()
    {
        using var factory = new WesApplicationFactory(workers: 1, settings: new Dictionary<string, string?> { ["Wes:Mock:DelayMilliseconds"] = "60000" });
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder());
        Assert.Equal("RUNNING", await client.WaitForAsync(runId, "RUNNING"));

        await CancelAsync(client, runId);

        Assert.Equal("CANCELED", await client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(10)));
        var history = await factory.Service<RunStore>().GetHistoryAsync(runId, CancellationToken.None);
        Assert.Equal(["QUEUED", "INITIALIZING", "RUNNING", "CANCELING", "CANCELED"], history.Select(h => h.ToState));
    }

    [Theory]
    [InlineData("INITIALIZING")]
    [InlineData("RUNNING")]
    public async Task CancelClaimedRun_MovesItToCanceling(string claimedState)
    {
        // The run is held by an executor elsewhere; this process can only ask it to stop.
        using var factory = new WesApplicationFactory(workers: 0);
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder());
        var store = factory.Service<RunStore>();
        await store.TryClaimNextAsync("elsewhere:1:x", TimeSpan.FromHours(1), CancellationToken.None);
        if (claimedState == "RUNNING")
        {
            await store.TransitionAsync(runId, RunState.Initializing, RunState.Running, TransitionChanges.None, "elsewhere:1:x", "t", CancellationToken.None);
        }

        await CancelAsync(client, runId);
        Assert.Equal("CANCELING", await client.StateAsync(runId));

        // Canceling again changes nothing and still answers 200.
        await CancelAsync(client, runId);
        Assert.Equal("CANCELING", await client.StateAsync(runId));
        var history = await store.GetHistoryAsync(runId, CancellationToken.None);
        Assert.Single(history, h => h.ToState == "CANCELING");
    }

    [Fact]
    public async Task CancelFinishedRun_LeavesItUnchanged()
    {
        using var factory = new WesApplicationFactory(workers: 1);
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder());
        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId));
        var before = await factory.Service<RunStore>().GetHistoryAsync(runId, CancellationToken.None);

        await CancelAsync(client, runId);

        Assert.Equal("COMPLETE", await client.StateAsync(runId));
        Assert.Equal(before.Count, (await factory.Service<RunStore>().GetHistoryAsync(runId, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task LateEngineExit_NeverOverwritesACancel()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder());
        var store = factory.Service<RunStore>();
        await store.TryClaimNextAsync("me:1:x", TimeSpan.FromHours(1), CancellationToken.None);
        await store.TransitionAsync(runId, RunState.Initializing, RunState.Running, TransitionChanges.None, "me:1:x", "t", CancellationToken.None);
        await CancelAsync(client, runId);

        // The engine exits 0 just after the cancel: recording COMPLETE must fail.
        var late = await store.TransitionAsync(runId, RunState.Running, RunState.Complete, new TransitionChanges { ExitCode = 0, RequireLeaseOwner = "me:1:x" }, "me:1:x", "t", CancellationToken.None);
        await store.TransitionAsync(runId, RunState.Canceling, RunState.Canceled, TransitionChanges.None, "me:1:x", "t", CancellationToken.None);

        Assert.Equal(TransitionOutcome.Conflict, late);
        Assert.Equal("CANCELED", await client.StateAsync(runId));
    }

    private static async Task<string> CancelAsync(WesClient client, string runId)
    {
        using var response = await client.Http.PostAsync(client.Url($"/runs/{runId}/cancel"), null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var json = System.Text.Json.Nodes.JsonNode.Parse(body)!;
        SpecContract.AssertMatches(json, "RunId");
        return json["run_id"]!.GetValue<string>();
    }
}
