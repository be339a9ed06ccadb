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
    public async Task RealServer_TakesABodyAtTheLimit_AndRefusesLargerBodiesAndHeaders()
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
        var valid = new RunRequestBuilder().WithoutAttachments().With("workflow_url", "https://example.com/a.cwl").ToJson();
        // Expect: 100-continue, so the client sends no body once the server has answered: the 413 arrives intact.
        using var over = new HttpRequestMessage(HttpMethod.Post, runs) { Content = Json(valid + new string(' ', 100_001 - valid.Length)) };
        over.Headers.ExpectContinue = true;
        using var headers = new HttpRequestMessage(HttpMethod.Get, runs);
        headers.Headers.TryAddWithoutValidation("X-Padding", new string('h', 40_000));

        using var atTheLimit = await http.PostAsync(runs, Json(valid + new string(' ', 100_000 - valid.Length)));
        using var overTheLimit = await http.SendAsync(over);
        using var tooManyHeaders = await http.SendAsync(headers);

        Assert.Equal(HttpStatusCode.OK, atTheLimit.StatusCode);
        await JsonAssert.ErrorAsync(overTheLimit, HttpStatusCode.RequestEntityTooLarge);
        // Kestrel answers oversized headers itself, before the application (a bare 431).
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, tooManyHeaders.StatusCode);
        // Only the body at the limit became a run (a JSON submission writes no folder, so the listing is what tells).
        var listed = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync(runs))!["runs"]!.AsArray();
        Assert.Single(listed);
    }

    private static ByteArrayContent Json(string body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = TempDirectory.Create("wes-limits");

        public void Dispose() => TempDirectory.Delete(Path);
    }
}
