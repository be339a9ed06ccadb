using System.Net;
using System.Text.Json.Nodes;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>
/// WES_MIN_FREE_DISK_MB: below it submissions answer 507 and leave nothing, queued runs stay QUEUED until space is
/// back, and readiness fails naming the disk. A minimum larger than any disk makes "low" certain.
/// </summary>
public sealed class DiskGuardTests : IDisposable
{
    private const string MoreThanAnyDisk = "1073741824";
    private readonly string _dataDir = TempDirectory.Create("wes-disk-guard");

    public void Dispose() => TempDirectory.Delete(_dataDir);

    private WesApplicationFactory Factory(string? minFreeMb, int workers, CapturingLoggerProvider? logs = null) =>
        new(workers: workers, dataDir: _dataDir, settings: new Dictionary<string, string?> { ["Wes:MinFreeDiskMb"] = minFreeMb ?? "0" },
            services: logs is null ? null : logs.AddTo);

    [Fact]
    public async Task Submit_WhenTheDiskIsLow_Answers507InTheErrorShape_AndCreatesNothing()
    {
        using var factory = Factory(MoreThanAnyDisk, workers: 1);
        using var wes = factory.CreateWesClient();

        using var response = await new RunRequestBuilder().SendAsync(wes);

        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(507, error["status_code"]!.GetValue<int>());
        Assert.Contains("low on disk space", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("WES_MIN_FREE_DISK_MB", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await wes.CountRunsAsync());
        Assert.Empty(Directory.Exists(factory.RunsDir) ? Directory.GetFileSystemEntries(factory.RunsDir) : []);
    }

    [Fact]
    public async Task Submit_WhenTheDiskIsLow_StillAnswersARetryWithAStoredIdempotencyKey_ButRefusesANewKey()
    {
        string runId;
        using (var fine = Factory(null, workers: 0))
        using (var wes = fine.CreateWesClient())
        {
            using var first = await PostWithKeyAsync(wes, "retry-me");
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            runId = JsonNode.Parse(await first.Content.ReadAsStringAsync())!["run_id"]!.GetValue<string>();
        }

        using var low = Factory(MoreThanAnyDisk, workers: 0);
        using var client = low.CreateWesClient();
        using var retry = await PostWithKeyAsync(client, "retry-me");
        using var fresh = await PostWithKeyAsync(client, "a-new-key");

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(runId, JsonNode.Parse(await retry.Content.ReadAsStringAsync())!["run_id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.InsufficientStorage, fresh.StatusCode);
        Assert.Equal(1, await client.CountRunsAsync());
    }

    private static async Task<HttpResponseMessage> PostWithKeyAsync(WesClient wes, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, wes.Url("/runs")) { Content = new RunRequestBuilder().ToMultipart() };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return await wes.Http.SendAsync(request);
    }

    [Fact]
    public async Task Ready_WhenTheDiskIsLow_ReportsTheDiskDegradedButStaysInService_AndIsHealthyWithoutAMinimum()
    {
        using (var low = Factory(MoreThanAnyDisk, workers: 0))
        using (var http = low.CreateClient())
        {
            using var ready = await http.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
            Assert.Equal("Degraded", body["status"]!.GetValue<string>());
            var disk = body["checks"]!["disk"]!;
            Assert.Equal("Degraded", disk["status"]!.GetValue<string>());
            Assert.Contains("low disk space", disk["description"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.DoesNotContain(_dataDir, disk["description"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        using var fine = Factory("1", workers: 0);
        using var client = fine.CreateClient();
        using var answer = await client.GetAsync("/health/ready");
        var check = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["checks"]!["disk"]!;
        Assert.Equal("Healthy", check["status"]!.GetValue<string>());
        Assert.Contains("minimum 1 MB", check["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueuedRun_StaysQueuedWhileTheDiskIsLow_AndStartsOnceTheMinimumIsLowered()
    {
        string runId;
        using (var apiOnly = Factory(null, workers: 0))
        using (var wes = apiOnly.CreateWesClient())
        {
            runId = await wes.SubmitAsync(new RunRequestBuilder());
        }

        // The same database, now with executors on a volume that is "low": the worker says why it claims nothing.
        var logs = new CapturingLoggerProvider();
        using (var low = Factory(MoreThanAnyDisk, workers: 1, logs))
        using (var wes = low.CreateWesClient())
        {
            // Only the worker asks the guard here, and it asks before every claim: once it has warned, it has held back.
            await ProcessTable.WaitUntilAsync(() => logs.Text.Contains("Low disk space", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the low-disk warning");
            Assert.Equal("QUEUED", await wes.StateAsync(runId));
        }

        using var restarted = Factory("1", workers: 1);
        using var client = restarted.CreateWesClient();
        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId));
    }
}
