using System.Text.Json.Nodes;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>API and executor processes as real OS processes sharing one database: nothing lost, nothing run twice.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ScaleOutTests(PostgresServer postgres) : IDisposable
{
    private readonly string _dataDir = TempDirectory.Create("wes-scale");

    public void Dispose() => TempDirectory.Delete(_dataDir);

    private string ExecutionLogPath => Path.Combine(_dataDir, "executions.log");

    private Dictionary<string, string> Environment(string? database, int delayMs, int leaseSeconds = 60, double pollSeconds = 30) => new()
    {
        ["WES_DATA_DIR"] = _dataDir,
        ["WES_DATABASE"] = database ?? "",
        ["DEFAULT_WES_PROVIDER"] = "Mock",
        ["WES_MAX_CONCURRENT_RUNS"] = "2",
        ["WES_LEASE_SECONDS"] = leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["WORKFLOW_POLL_INTERVAL"] = pollSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["WES_SHUTDOWN_GRACE"] = "0",
        ["Wes__Mock__DelayMilliseconds"] = delayMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Wes__Mock__ExecutionLog"] = ExecutionLogPath,
    };

    [Fact]
    public async Task OneApiAndThreeExecutors_OnPostgres_RunEveryRunExactlyOnce()
    {
        var environment = Environment(postgres.CreateDatabase(), delayMs: 10);
        using var api = await HostProcess.StartAsync(environment, "api");
        var executors = new List<HostProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                executors.Add(await HostProcess.StartExecutorAsync(environment));
            }

            using var client = Client(api);
            var ids = await SubmitAsync(client, 300);

            await WaitAllTerminalAsync(client, ids.Count, TimeSpan.FromSeconds(120));
            var executions = ExecutionLog.Read(ExecutionLogPath);
            Assert.All(ids, id => Assert.Single(executions, e => e.RunId == id));
            Assert.All(executions, e => Assert.Equal("COMPLETE", e.Outcome));
            Assert.True(executions.Select(e => e.Owner).Distinct().Count() >= 2, "the executors should share the work");
            var info = await client.GetJsonAsync("/service-info");
            Assert.Equal("3", info["tags"]!["executors_alive"]!.GetValue<string>());
            Assert.Equal("0", info["tags"]!["executor_workers"]!.GetValue<string>());
        }
        finally
        {
            executors.ForEach(e => e.Dispose());
        }
    }

    [Fact]
    public async Task SubmissionToAnApiProcess_WakesAnExecutorProcessWithoutWaitingForThePoll()
    {
        var environment = Environment(postgres.CreateDatabase(), delayMs: 10, pollSeconds: 3600);
        using var api = await HostProcess.StartAsync(environment, "api");
        using var executor = await HostProcess.StartExecutorAsync(environment);
        using var client = Client(api);

        var runId = await client.SubmitAsync(MockRun());

        // With an hour between polls, only the PostgreSQL notification can have started it.
        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task KilledExecutor_OnPostgres_ItsRunsFinishElsewhereAndNeverRunTwiceAtOnce() =>
        await KillOneExecutorAsync(postgres.CreateDatabase());

    [Fact]
    public async Task KilledExecutor_OnOneSqliteFile_ItsRunsFinishElsewhereAndNeverRunTwiceAtOnce() =>
        await KillOneExecutorAsync(database: null);

    private async Task KillOneExecutorAsync(string? database)
    {
        var environment = Environment(database, delayMs: 1500, leaseSeconds: 2, pollSeconds: 0.2);
        using var api = await HostProcess.StartAsync(environment, "api");
        using var survivor = await HostProcess.StartExecutorAsync(environment);
        using var victim = await HostProcess.StartExecutorAsync(environment);
        using var client = Client(api);
        var ids = await SubmitAsync(client, 12);
        await ProcessTable.WaitUntilAsync(
            () => ExecutionLog.Read(ExecutionLogPath).Any(e => e.Owner.Contains($":{victim.Pid}:", StringComparison.Ordinal) && e.End is null),
            TimeSpan.FromSeconds(30), "the victim runs something");

        victim.Signal("KILL");
        await victim.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var killedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        await WaitAllTerminalAsync(client, ids.Count, TimeSpan.FromSeconds(120));
        var executions = ExecutionLog.Read(ExecutionLogPath);
        var orphaned = executions.Where(e => e.End is null).ToList();
        Assert.NotEmpty(orphaned);
        Assert.All(ids, id => Assert.Single(executions, e => e.RunId == id && e.Outcome == "COMPLETE"));
        foreach (var run in executions.GroupBy(e => e.RunId))
        {
            // Each execution starts only after the one before it ended (or its executor died).
            var ordered = run.OrderBy(e => e.Start).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                Assert.True(ordered[i].Start >= (ordered[i - 1].End ?? killedAt), $"run {run.Key} ran twice at once");
            }
        }

        foreach (var lost in orphaned)
        {
            var log = await client.GetJsonAsync($"/runs/{lost.RunId}");
            Assert.Equal("COMPLETE", log["state"]!.GetValue<string>());
            Assert.Contains(log["run_log"]!["system_logs"]!.AsArray(), l => l!.GetValue<string>().Contains("re-queued", StringComparison.Ordinal));
        }
    }

    private static WesClient Client(HostProcess api) => new(new HttpClient { BaseAddress = new Uri(api.BaseUrl!) }, "/ga4gh/wes/v1");

    private static RunRequestBuilder MockRun() =>
        new RunRequestBuilder().WithoutAttachments().With("workflow_url", "https://example.com/hello.cwl");

    private static async Task<List<string>> SubmitAsync(WesClient client, int count)
    {
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (_, _) => ids.Add(await client.SubmitAsync(MockRun())));
        return [.. ids];
    }

    private static async Task WaitAllTerminalAsync(WesClient client, int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var counts = (await client.GetJsonAsync("/service-info"))["system_state_counts"]!.AsObject();
            var done = WesClient.Terminal.Sum(state => counts[state]?.GetValue<long>() ?? 0);
            if (done >= expected)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"only {done} of {expected} runs ended: {counts.ToJsonString()}");
            }

            await Task.Delay(100);
        }
    }
}
