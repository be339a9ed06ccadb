using System.Net;
using Wes.Configuration;
using Wes.Observability;
using Wes.Tests.Support;

namespace Wes.Tests.Observability;

/// <summary>/metrics on the API port of an in-memory host: who may read it, and what the OpenAPI document says of it.</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_AreServedWithoutAToken_WhenAuthIsOn()
    {
        using var factory = new WesApplicationFactory(settings: TestAuth.TokenSettings());
        using var http = factory.CreateClient();

        using var metrics = await http.GetAsync(MetricsOptions.Path);
        using var runs = await http.GetAsync("/ga4gh/wes/v1/runs");

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Contains("wes_executor_workers", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, runs.StatusCode);
    }

    [Fact]
    public async Task Metrics_NeedAToken_WhenMetricsRequireAuth()
    {
        var settings = TestAuth.TokenSettings();
        settings["Wes:Metrics:RequireAuth"] = "true";
        using var factory = new WesApplicationFactory(settings: settings);
        using var anonymous = factory.CreateClient();
        using var alice = factory.CreateClient().WithBearer(TestAuth.AliceToken);

        using var refused = await anonymous.GetAsync(MetricsOptions.Path);
        using var allowed = await alice.GetAsync(MetricsOptions.Path);

        await JsonAssert.ErrorAsync(refused, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task OpenApiDocument_DoesNotDescribeMetrics()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var http = factory.CreateClient();

        var document = await http.GetStringAsync("/openapi/v1.json");

        Assert.Contains("/ga4gh/wes/v1/runs", document, StringComparison.Ordinal);
        Assert.DoesNotContain("\"/metrics\"", document, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://127.0.0.1:9090")]
    [InlineData("http://127.0.0.1:9090/metrics")]
    [InlineData("127.0.0.1:9090")]
    public void Validator_NamesMetricsUrls_ThatAreNotPlainHttpListeners(string urls)
    {
        var failures = Validate(new WesOptions { Metrics = new MetricsOptions { Urls = urls } });

        Assert.Contains(failures, failure => failure.StartsWith("WES_METRICS_URLS (Wes:Metrics:Urls)", StringComparison.Ordinal));
    }

    [Fact]
    public void Validator_AcceptsListenersOnAnyAddress_AndNamesAnUnknownLogFormat()
    {
        var failures = Validate(new WesOptions { Metrics = new MetricsOptions { Urls = "http://127.0.0.1:9090;http://*:9091,http://+:9092" }, LogFormat = "xml" });

        Assert.DoesNotContain(failures, failure => failure.Contains("WES_METRICS_URLS", StringComparison.Ordinal));
        Assert.Contains(failures, failure => failure.StartsWith("WES_LOG_FORMAT (Wes:LogFormat)", StringComparison.Ordinal));
    }

    [Fact]
    public void Validator_NamesMetricsRequireAuth_WhenAuthenticationIsOff()
    {
        var failures = Validate(new WesOptions { Metrics = new MetricsOptions { RequireAuth = true } });
        var withTokens = Validate(new WesOptions { Metrics = new MetricsOptions { RequireAuth = true }, Auth = { Mode = "token" } });

        Assert.Contains(failures, failure => failure.StartsWith("WES_METRICS_REQUIRE_AUTH (Wes:Metrics:RequireAuth) needs authentication on", StringComparison.Ordinal));
        Assert.DoesNotContain(withTokens, failure => failure.StartsWith("WES_METRICS_REQUIRE_AUTH", StringComparison.Ordinal));
    }

    private static List<string> Validate(WesOptions options) =>
        new WesOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];
}
