using System.Net;
using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>Runs belong to whoever submitted them: listing, cancel, queue limits and runs from before auth was on.</summary>
public sealed class OwnershipTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 0, settings: TestAuth.TokenSettings());

    public void Dispose()
    {
        _factory.Dispose();
        TempDirectory.Delete(_factory.DataDir + "-before");
    }

    [Fact]
    public async Task Listing_ShowsUsersTheirOwnRunsAndAdminsEveryRun()
    {
        using var alice = _factory.CreateWesClient(token: TestAuth.AliceToken);
        using var bob = _factory.CreateWesClient(token: TestAuth.BobToken);
        using var admin = _factory.CreateWesClient(token: TestAuth.AdminToken);
        var aliceRuns = new[] { await alice.SubmitAsync(new RunRequestBuilder()), await alice.SubmitAsync(new RunRequestBuilder()) };
        var bobRun = await bob.SubmitAsync(new RunRequestBuilder());

        Assert.Equal(aliceRuns.Reverse(), await RunIdsAsync(alice));
        Assert.Equal([bobRun], await RunIdsAsync(bob));
        Assert.Equal(3, (await RunIdsAsync(admin)).Count);
        var history = await _factory.Service<RunStore>().GetHistoryAsync(bobRun, CancellationToken.None);
        Assert.Equal("api:bob", history.Single().Actor);
    }

    [Fact]
    public async Task PageToken_OfOneUsersListing_IsRefusedInAnothers()
    {
        using var alice = _factory.CreateWesClient(token: TestAuth.AliceToken);
        using var bob = _factory.CreateWesClient(token: TestAuth.BobToken);
        await alice.SubmitAsync(new RunRequestBuilder());
        await alice.SubmitAsync(new RunRequestBuilder());
        var token = (await alice.GetJsonAsync("/runs?page_size=1"))["next_page_token"]!.GetValue<string>();

        using var response = await bob.GetAsync("/runs?page_size=1&page_token=" + token);

        await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task CancelOfAnotherUsersRun_Is403AndLeavesItQueued()
    {
        using var alice = _factory.CreateWesClient(token: TestAuth.AliceToken);
        using var bob = _factory.CreateWesClient(token: TestAuth.BobToken);
        var runId = await alice.SubmitAsync(new RunRequestBuilder());

        using var response = await bob.Http.PostAsync(bob.Url($"/runs/{runId}/cancel"), null);

        await JsonAssert.ErrorAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("QUEUED", await alice.StateAsync(runId));
    }

    [Fact]
    public async Task RunsSubmittedBeforeAuthWasOn_AreSeenByAdminsOnly()
    {
        string runId;
        using (var open = new WesApplicationFactory(workers: 0, dataDir: _factory.DataDir + "-before"))
        using (var anyone = open.CreateWesClient())
        {
            runId = await anyone.SubmitAsync(new RunRequestBuilder());
        }

        using var secured = new WesApplicationFactory(workers: 0, dataDir: _factory.DataDir + "-before", settings: TestAuth.TokenSettings());
        using var alice = secured.CreateWesClient(token: TestAuth.AliceToken);
        using var admin = secured.CreateWesClient(token: TestAuth.AdminToken);

        var error = await JsonAssert.ErrorAsync(await alice.GetAsync($"/runs/{runId}"), HttpStatusCode.Forbidden);
        Assert.Contains("before authentication was turned on", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(await RunIdsAsync(alice));
        Assert.Equal([runId], await RunIdsAsync(admin));
        Assert.Equal("QUEUED", await admin.StateAsync(runId));
    }

    [Fact]
    public async Task QueuedRunsPerUser_AreLimitedWith429()
    {
        var settings = TestAuth.TokenSettings();
        settings["Wes:Limits:MaxQueuedRunsPerUser"] = "2";
        using var factory = new WesApplicationFactory(workers: 0, settings: settings);
        using var alice = factory.CreateWesClient(token: TestAuth.AliceToken);
        using var bob = factory.CreateWesClient(token: TestAuth.BobToken);
        var first = await alice.SubmitAsync(new RunRequestBuilder());
        await alice.SubmitAsync(new RunRequestBuilder());

        var error = await JsonAssert.ErrorAsync(await new RunRequestBuilder().SendAsync(alice), HttpStatusCode.TooManyRequests);

        Assert.Contains("User 'alice' already has 2 queued run(s)", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, Directory.GetDirectories(factory.RunsDir).Length);
        await bob.SubmitAsync(new RunRequestBuilder());
        (await alice.Http.PostAsync(alice.Url($"/runs/{first}/cancel"), null)).EnsureSuccessStatusCode();
        await alice.SubmitAsync(new RunRequestBuilder());
    }

    private static async Task<List<string>> RunIdsAsync(WesClient client) =>
        (await client.GetJsonAsync("/runs"))["runs"]!.AsArray().Select(r => r!["run_id"]!.GetValue<string>()).ToList();
}
