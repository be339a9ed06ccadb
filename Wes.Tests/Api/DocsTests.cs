using System.Net;
using System.Text.Json.Nodes;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

public sealed class DocsTests
{
    [Fact]
    public async Task OpenApiDocument_DescribesEveryWesOperationOnce()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var http = factory.CreateClient();

        var document = JsonNode.Parse(await http.GetStringAsync("/openapi/v1.json"))!;

        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/ga4gh/wes/v1/service-info", paths);
        Assert.Contains("/ga4gh/wes/v1/runs", paths);
        Assert.Contains("/ga4gh/wes/v1/runs/{run_id}/tasks/{task_id}", paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("/api/", StringComparison.Ordinal));
        Assert.NotNull(document["paths"]!["/ga4gh/wes/v1/runs"]!["post"]);
        Assert.NotNull(document["paths"]!["/ga4gh/wes/v1/runs/{run_id}/cancel"]!["post"]);
        var body = document["paths"]!["/ga4gh/wes/v1/runs"]!["post"]!["requestBody"]!["content"]!.AsObject();
        Assert.Contains("application/json", body.Select(c => c.Key));
        Assert.Contains("multipart/form-data", body.Select(c => c.Key));
    }

    [Fact]
    public async Task ReferencePage_IsServed()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var http = factory.CreateClient();

        using var page = await http.GetAsync("/scalar/");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }
}
