using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

public sealed class ExecutorPoolTests
{
    [Fact]
    public async Task Pool_ExecutesEveryRunExactlyOnce()
    {
        using var factory = new WesApplicationFactory(workers: 4, settings: new Dictionary<string, string?> { ["Wes:Mock:DelayMilliseconds"] = "5" });
        using var client = factory.CreateWesClient();
        var ids = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            ids.Add(await client.SubmitAsync(new RunRequestBuilder()));
        }

        foreach (var id in ids)
        {
            Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(id));
        }

        var store = factory.Service<RunStore>();
        foreach (var id in ids)
        {
            var history = await store.GetHistoryAsync(id, CancellationToken.None);
            Assert.Equal(["QUEUED", "INITIALIZING", "RUNNING", "COMPLETE"], history.Select(h => h.ToState));
            Assert.Equal(1, (await store.GetAsync(id, CancellationToken.None))!.Attempt);
        }
    }

    [Fact]
    public async Task Pool_NeverRunsMoreThanItsWorkersAtOnce()
    {
        using var factory = new WesApplicationFactory(workers: 2, settings: new Dictionary<string, string?> { ["Wes:Mock:DelayMilliseconds"] = "60000" });
        using var client = factory.CreateWesClient();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await client.SubmitAsync(new RunRequestBuilder()));
        }

        Assert.Equal("RUNNING", await client.WaitForAsync(ids[0], "RUNNING"));
        Assert.Equal("RUNNING", await client.WaitForAsync(ids[1], "RUNNING"));

        var counts = (await client.GetJsonAsync("/service-info"))["system_state_counts"]!;
        Assert.Equal(2, counts["RUNNING"]!.GetValue<long>());
        Assert.Equal(3, counts["QUEUED"]!.GetValue<long>());
    }

    [Fact]
    public async Task RunSubmittedElsewhere_IsPickedUpByThePoll()
    {
        // An API-only process (no workers) and an executor process share one database file.
        using var executor = new WesApplicationFactory(workers: 1);
        using var api = new WesApplicationFactory(workers: 0, dataDir: executor.DataDir);
        using var executorClient = executor.CreateWesClient();
        using var apiClient = api.CreateWesClient();
        await executorClient.GetJsonAsync("/service-info");

        var runId = await apiClient.SubmitAsync(new RunRequestBuilder());

        Assert.Equal("COMPLETE", await apiClient.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(30)));
    }
}
