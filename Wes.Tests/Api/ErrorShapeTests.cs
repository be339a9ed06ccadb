using System.Net;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

public sealed class ErrorShapeTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 0);
    private readonly WesClient _client;

    public ErrorShapeTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Theory]
    [InlineData("/ga4gh/wes/v1/no-such-thing")]
    [InlineData("/ga4gh/wes/v2/runs")]
    [InlineData("/ga4gh/wes/v1/runs/abc/nothing")]
    public async Task UnknownRoute_Is404ErrorResponse(string path)
    {
        using var response = await _client.Http.GetAsync(path);

        SpecContract.AssertMatches(await JsonAssert.ErrorAsync(response, HttpStatusCode.NotFound), "ErrorResponse");
    }

    [Theory]
    [InlineData("/runs/00000000-0000-0000-0000-000000000000")]
    [InlineData("/runs/00000000-0000-0000-0000-000000000000/status")]
    [InlineData("/runs/00000000-0000-0000-0000-000000000000/tasks")]
    [InlineData("/runs/00000000-0000-0000-0000-000000000000/tasks/engine")]
    [InlineData("/runs/00000000-0000-0000-0000-000000000000/stdout")]
    [InlineData("/runs/00000000-0000-0000-0000-000000000000/stderr")]
    public async Task UnknownRun_Is404ErrorResponse(string path)
    {
        using var response = await _client.GetAsync(path);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.NotFound);
        Assert.Contains("not found", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancelOfUnknownRun_Is404()
    {
        using var response = await _client.Http.PostAsync(_client.Url("/runs/nope/cancel"), null);

        await JsonAssert.ErrorAsync(response, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("DELETE", "/runs")]
    [InlineData("PUT", "/service-info")]
    [InlineData("GET", "/runs/x/cancel")]
    public async Task WrongMethod_Is405ErrorResponse(string method, string path)
    {
        using var response = await _client.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), _client.Url(path)));

        await JsonAssert.ErrorAsync(response, HttpStatusCode.MethodNotAllowed);
    }
}
