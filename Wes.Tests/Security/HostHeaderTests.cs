using System.Net;
using System.Text.Json.Nodes;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>
/// Links in responses never come from a Host the server does not answer to: an unknown Host is a 400 ErrorResponse,
/// and with WES_PUBLIC_BASE_URL set every link uses it, whatever the Host.
/// </summary>
public sealed class HostHeaderTests
{
    private const string Base = "/ga4gh/wes/v1";

    [Fact]
    public async Task ForgedHost_Is400ErrorResponse_AndChangesNothing()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder());

        var responses = new[]
        {
            await SendAsync(client, HttpMethod.Get, "/service-info", "evil.example"),
            await SendAsync(client, HttpMethod.Get, $"/runs/{runId}", "evil.example:443"),
            await SendAsync(client, HttpMethod.Get, "/runs", "localhost.evil.example"),
            await SendAsync(client, HttpMethod.Post, $"/runs/{runId}/cancel", "127.0.0.2"),
            await SendAsync(client, HttpMethod.Post, "/runs", "evil.example", new RunRequestBuilder().ToMultipart()),
        };

        foreach (var response in responses)
        {
            var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
            var message = error["msg"]!.GetValue<string>();
            Assert.Contains("is not allowed", message, StringComparison.Ordinal);
            Assert.Contains("AllowedHosts", message, StringComparison.Ordinal);
            Assert.Contains("WES_PUBLIC_BASE_URL", message, StringComparison.Ordinal);
            response.Dispose();
        }

        Assert.Equal(1, await client.CountRunsAsync());
        Assert.Equal("QUEUED", await client.StateAsync(runId));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("LOCALHOST:8000")]
    [InlineData("127.0.0.1:5000")]
    [InlineData("[::1]:8080")]
    public async Task LoopbackNames_AreAnswered_AndLinksUseThem(string host)
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder());

        var log = await RunLogAsync(client, runId, host);

        Assert.Equal($"http://{host}{Base}/runs/{runId}/stdout", log["run_log"]!["stdout"]!.GetValue<string>());
        Assert.Equal($"http://{host}{Base}/runs/{runId}/tasks", log["task_logs_url"]!.GetValue<string>());
    }

    [Fact]
    public async Task ConfiguredAllowedHosts_ReplaceTheLoopbackNames()
    {
        using var factory = new WesApplicationFactory(workers: 0, settings: new Dictionary<string, string?> { ["AllowedHosts"] = "wes.example.org; *.lab.example" });
        using var client = factory.CreateWesClient();

        using var named = await SendAsync(client, HttpMethod.Get, "/service-info", "wes.example.org");
        using var wildcard = await SendAsync(client, HttpMethod.Get, "/service-info", "node1.lab.example:8000");
        using var loopback = await SendAsync(client, HttpMethod.Get, "/service-info", "localhost");
        using var parent = await SendAsync(client, HttpMethod.Get, "/service-info", "lab.example");

        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        Assert.Equal(HttpStatusCode.OK, wildcard.StatusCode);
        await JsonAssert.ErrorAsync(loopback, HttpStatusCode.BadRequest);
        await JsonAssert.ErrorAsync(parent, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task PublicBaseUrl_IsAnsweredByDefault_AndEveryLinkUsesIt()
    {
        const string publicBase = "https://wes.example.org/proxy";
        using var factory = new WesApplicationFactory(workers: 0, settings: new Dictionary<string, string?> { ["Wes:PublicBaseUrl"] = publicBase });
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder());

        var viaPublicName = await RunLogAsync(client, runId, "wes.example.org");
        var viaLoopback = await RunLogAsync(client, runId, "127.0.0.1:5000");

        foreach (var log in new[] { viaPublicName, viaLoopback })
        {
            Assert.Equal($"{publicBase}{Base}/runs/{runId}/stdout", log["run_log"]!["stdout"]!.GetValue<string>());
            Assert.Equal($"{publicBase}{Base}/runs/{runId}/tasks", log["task_logs_url"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task PublicBaseUrl_WithEveryHostAllowed_LinksIgnoreTheHost()
    {
        const string publicBase = "https://wes.example.org";
        using var factory = new WesApplicationFactory(workers: 0,
            settings: new Dictionary<string, string?> { ["Wes:PublicBaseUrl"] = publicBase, ["AllowedHosts"] = "*" });
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder());

        var log = await RunLogAsync(client, runId, "evil.example");
        using var serviceInfo = await SendAsync(client, HttpMethod.Get, "/service-info", "evil.example");

        Assert.Equal($"{publicBase}{Base}/runs/{runId}/stderr", log["run_log"]!["stderr"]!.GetValue<string>());
        Assert.DoesNotContain("evil.example", log.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example", await serviceInfo.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<JsonObject> RunLogAsync(WesClient client, string runId, string host)
    {
        using var response = await SendAsync(client, HttpMethod.Get, $"/runs/{runId}", host);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Host {host}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    private static Task<HttpResponseMessage> SendAsync(WesClient client, HttpMethod method, string path, string host, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, client.Url(path)) { Content = content };
        request.Headers.Host = host;
        return client.Http.SendAsync(request);
    }
}
