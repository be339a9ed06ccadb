using System.Net;
using System.Text;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>Rate limits per client, and the body and header limits of the real web server (which TestServer does not apply).</summary>
public sealed class RequestLimitTests
{
    [Fact]
    public async Task RateLimit_Answers429WithRetryAfter_PerUserAndPerAddress()
    {
        var settings = TestAuth.TokenSettings();
        // Three requests at once, then one every hundred seconds: the fourth is refused.
        settings["Wes:Limits:RequestsPerSecond"] = "0.01";
        settings["Wes:Limits:RequestBurst"] = "3";
        using var factory = new WesApplicationFactory(workers: 0, settings: settings);
        using var alice = factory.CreateWesClient(token: TestAuth.AliceToken);
        using var bob = factory.CreateWesClient(token: TestAuth.BobToken);
        using var stranger = factory.CreateWesClient();
        for (var i = 0; i < 3; i++)
        {
            (await alice.GetAsync("/service-info")).EnsureSuccessStatusCode();
            await JsonAssert.ErrorAsync(await stranger.GetAsync("/runs"), HttpStatusCode.Unauthorized);
        }

        using var refused = await alice.GetAsync("/service-info");
        using var refusedStranger = await stranger.GetAsync("/runs");

        var error = await JsonAssert.ErrorAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.Contains("Too many requests", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.ToString());
        await JsonAssert.ErrorAsync(refusedStranger, HttpStatusCode.TooManyRequests);
        (await bob.GetAsync("/service-info")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task RealServer_RefusesLargeBodiesAndHeaders()
    {
        using var dataDir = new TempDir();
        using var host = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["WES_DATA_DIR"] = dataDir.Path,
            ["DEFAULT_WES_PROVIDER"] = "Mock",
            ["WES_MAX_REQUEST_BYTES"] = "100000",
        });
        using var http = new HttpClient();
        var runs = host.BaseUrl + "/ga4gh/wes/v1/runs";
        var big = Encoding.UTF8.GetBytes($"{{\"workflow_params\": {{\"a\": \"{new string('x', 150_000)}\"}}}}");

        using var announced = await http.PostAsync(runs, Json(new ByteArrayContent(big)));
        using var chunked = await http.PostAsync(runs, new UnsizedContent(big, "application/json"));
        using var headers = new HttpRequestMessage(HttpMethod.Get, runs);
        headers.Headers.TryAddWithoutValidation("X-Padding", new string('h', 40_000));
        using var tooManyHeaders = await http.SendAsync(headers);

        await JsonAssert.ErrorAsync(announced, HttpStatusCode.RequestEntityTooLarge);
        await JsonAssert.ErrorAsync(chunked, HttpStatusCode.RequestEntityTooLarge);
        // Kestrel answers oversized headers itself, before the application (a bare 431).
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, tooManyHeaders.StatusCode);
        Assert.Empty(Directory.GetDirectories(Path.Combine(dataDir.Path, "runs")));
    }

    private static HttpContent Json(HttpContent content)
    {
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = TempDirectory.Create("wes-limits");

        public void Dispose() => TempDirectory.Delete(Path);
    }
}
