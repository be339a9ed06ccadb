using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wes.Observability;
using Wes.Tests.Support;

namespace Wes.Tests.Observability;

/// <summary>
/// /metrics and the JSON log of real server processes. A process of its own per test: meters are process-wide, so
/// counts read from an in-memory host would include those of every other host the test run has going.
/// </summary>
public sealed class MetricsProcessTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dataDir = TempDirectory.Create("wes-metrics");
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        TempDirectory.Delete(_dataDir);
    }

    [Fact]
    public async Task Metrics_CountRunsByOutcome_AndReportQueueDepthAndHistograms()
    {
        using var host = await HostProcess.StartAsync(Environment());
        using var client = Client(host);
        string[] runs =
        [
            await client.SubmitAsync(new RunRequestBuilder()),
            await client.SubmitAsync(new RunRequestBuilder()),
            await client.SubmitAsync(new RunRequestBuilder().WithTags("""{"wes.mock.outcome": "EXECUTOR_ERROR"}""")),
        ];
        foreach (var run in runs)
        {
            await client.WaitForTerminalAsync(run);
        }

        // The gauge is refreshed in the background and the exporter caches its answer briefly: poll until it settles.
        var scrape = "";
        await ProcessTable.WaitUntilAsync(async () =>
        {
            scrape = await _http.GetStringAsync(host.BaseUrl + MetricsOptions.Path);
            // A worker lets go of its run just after recording the outcome, so "idle" is waited for too.
            return PrometheusText.Sum(scrape, "wes_runs", ("state", "COMPLETE")) == 2 &&
                PrometheusText.Sum(scrape, "wes_runs_finished_total") == 3 &&
                PrometheusText.Sum(scrape, "wes_executor_workers", ("status", "idle")) == 2;
        }, Timeout, "the scrape shows the three finished runs and idle workers");

        Assert.Equal(2, PrometheusText.Sum(scrape, "wes_runs_finished_total", ("state", "COMPLETE"), ("engine", "cwltool")));
        Assert.Equal(1, PrometheusText.Sum(scrape, "wes_runs_finished_total", ("state", "EXECUTOR_ERROR"), ("engine", "cwltool")));
        Assert.Equal(3, PrometheusText.Sum(scrape, "wes_runs_submitted_total"));
        Assert.Equal(1, PrometheusText.Sum(scrape, "wes_runs", ("state", "EXECUTOR_ERROR")));
        Assert.Equal(0, PrometheusText.Sum(scrape, "wes_runs", ("state", "QUEUED")));
        Assert.Equal(3, PrometheusText.Sum(scrape, "wes_run_pickup_seconds_count"));
        Assert.Equal(3, PrometheusText.Sum(scrape, "wes_run_pickup_seconds_bucket", ("le", "+Inf")));
        Assert.Equal(2, PrometheusText.Sum(scrape, "wes_run_duration_seconds_bucket", ("state", "COMPLETE"), ("le", "3600")));
        Assert.Equal(1, PrometheusText.Sum(scrape, "wes_run_duration_seconds_bucket", ("state", "EXECUTOR_ERROR"), ("le", "86400")));
        Assert.Equal(2, PrometheusText.Sum(scrape, "wes_executor_workers", ("status", "idle")));
        Assert.Equal(0, PrometheusText.Sum(scrape, "wes_executor_workers", ("status", "busy")));
        Assert.NotNull(PrometheusText.Sum(scrape, "http_server_request_duration_seconds_count", ("http_route", "/ga4gh/wes/v1/runs/")));
    }

    [Fact]
    public async Task MetricsUrls_ServeMetricsOnTheirPortOnly_AndNothingElseThere()
    {
        var metricsUrl = $"http://127.0.0.1:{LocalHttpServer.FreePort()}";
        var environment = Environment();
        environment["WES_METRICS_URLS"] = metricsUrl;
        using var host = await HostProcess.StartAsync(environment);

        using var scrape = await _http.GetAsync(metricsUrl + MetricsOptions.Path);
        using var apiScrape = await _http.GetAsync(host.BaseUrl + MetricsOptions.Path);
        using var apiOnMetricsPort = await _http.GetAsync(metricsUrl + "/ga4gh/wes/v1/service-info");
        using var api = await _http.GetAsync(host.BaseUrl + "/ga4gh/wes/v1/service-info");

        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Contains("wes_executor_workers", await scrape.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await JsonAssert.ErrorAsync(apiScrape, HttpStatusCode.NotFound);
        await JsonAssert.ErrorAsync(apiOnMetricsPort, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
    }

    [Fact]
    public async Task Executor_ServesMetrics_OnMetricsUrls()
    {
        var metricsUrl = $"http://127.0.0.1:{LocalHttpServer.FreePort()}";
        var environment = Environment();
        environment["WES_METRICS_URLS"] = metricsUrl;
        using var executor = await HostProcess.StartExecutorAsync(environment);

        var scrape = await _http.GetStringAsync(metricsUrl + MetricsOptions.Path);

        Assert.Equal(2, PrometheusText.Sum(scrape, "wes_executor_workers", ("status", "idle")));
    }

    [Fact]
    public async Task Executor_RefusesToStart_WhenMetricsRequireAuth()
    {
        var environment = Environment();
        environment["WES_METRICS_URLS"] = $"http://127.0.0.1:{LocalHttpServer.FreePort()}";
        environment["WES_METRICS_REQUIRE_AUTH"] = "true";
        // Authentication on, so what is refused is the executor's lack of it, not the setting on its own.
        foreach (var (key, value) in TestAuth.TokenSettings())
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
        }

        var (exitCode, output) = await HostProcess.RunToEndAsync(environment, "executor");

        Assert.Equal(2, exitCode);
        Assert.Contains("cannot be true for an executor", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonLogFormat_WritesJsonLines_CarryingTheRunsScope()
    {
        var environment = Environment();
        environment["WES_LOG_FORMAT"] = "json";
        using var host = await HostProcess.StartAsync(environment);
        using var client = Client(host);
        var runId = await client.SubmitAsync(new RunRequestBuilder());
        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId));

        // The outcome is logged just after it is recorded; wait for that line rather than for the state.
        JsonNode? recorded = null;
        await ProcessTable.WaitUntilAsync(() =>
        {
            recorded = Lines(host.Output).FirstOrDefault(line => ScopeOf(line, runId)?["State"]?.GetValue<string>() == "COMPLETE");
            return recorded is not null;
        }, Timeout, "the log shows the run recorded COMPLETE");

        var lines = Lines(host.Output);
        Assert.All(lines, line => Assert.EndsWith("Z", line["Timestamp"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.Equal("cwltool", ScopeOf(recorded!, runId)!["Engine"]!.GetValue<string>());
        Assert.Contains(lines, line => ScopeOf(line, runId)?["State"]?.GetValue<string>() == "QUEUED");
        Assert.Contains(lines, line => ScopeOf(line, runId)?["State"]?.GetValue<string>() == "INITIALIZING");
    }

    /// <summary>Every line of the output, each of which must be one JSON object.</summary>
    private static List<JsonNode> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line =>
            {
                try
                {
                    return JsonNode.Parse(line)!;
                }
                catch (JsonException ex)
                {
                    throw new Xunit.Sdk.XunitException($"Not a JSON line ({ex.Message}): {line}");
                }
            })
            .ToList();

    private static JsonObject? ScopeOf(JsonNode line, string runId) =>
        line["Scopes"]?.AsArray().OfType<JsonObject>().FirstOrDefault(scope => scope["RunId"]?.GetValue<string>() == runId);

    private Dictionary<string, string> Environment() => new()
    {
        ["WES_DATA_DIR"] = _dataDir,
        ["DEFAULT_WES_PROVIDER"] = "Mock",
        ["WES_MAX_CONCURRENT_RUNS"] = "2",
        ["WORKFLOW_POLL_INTERVAL"] = "0.2",
        ["WES_MAX_ATTEMPTS"] = "1",
    };

    private static WesClient Client(HostProcess host) =>
        new(new HttpClient { BaseAddress = new Uri(host.BaseUrl!) }, "/ga4gh/wes/v1");
}
