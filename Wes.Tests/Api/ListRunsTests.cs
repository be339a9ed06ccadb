using System.Net;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

public sealed class ListRunsTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 0, settings: new Dictionary<string, string?> { ["Wes:MaxPageSize"] = "5", ["Wes:DefaultPageSize"] = "3" });
    private readonly WesClient _client;

    public ListRunsTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task ListRuns_IsNewestFirstAndMatchesTheSpec()
    {
        var first = await _client.SubmitAsync(new RunRequestBuilder().WithTags("""{"sample": "a"}"""));
        var second = await _client.SubmitAsync(new RunRequestBuilder());

        var page = await _client.GetJsonAsync("/runs");

        SpecContract.AssertMatches(page, "RunListResponse");
        var runs = page["runs"]!.AsArray();
        Assert.Equal([second, first], runs.Select(r => r!["run_id"]!.GetValue<string>()));
        Assert.Equal("a", runs[1]!["tags"]!["sample"]!.GetValue<string>());
        // A queued run has not started: start_time is left out, not null.
        Assert.False(runs[0]!.AsObject().ContainsKey("start_time"));
        Assert.Equal("", page["next_page_token"]!.GetValue<string>());
    }

    [Fact]
    public async Task Paging_VisitsEveryRunOnceWhileNewRunsArrive()
    {
        var before = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            before.Add(await _client.SubmitAsync(new RunRequestBuilder()));
        }

        var seen = new List<string>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await _client.GetJsonAsync($"/runs?page_size=2&page_token={Uri.EscapeDataString(token)}");
            var runs = page["runs"]!.AsArray();
            Assert.InRange(runs.Count, 1, 2);
            seen.AddRange(runs.Select(r => r!["run_id"]!.GetValue<string>()));
            token = page["next_page_token"]!.GetValue<string>();
            // Runs submitted mid-listing are newer than the first page and must not shift later pages.
            await _client.SubmitAsync(new RunRequestBuilder());
            pages++;
        }
        while (token.Length > 0);

        Assert.Equal(4, pages);
        Assert.Equal(Enumerable.Reverse(before), seen);
    }

    [Fact]
    public async Task PageSize_HasADefaultAndIsClampedToTheMaximum()
    {
        for (var i = 0; i < 7; i++)
        {
            await _client.SubmitAsync(new RunRequestBuilder());
        }

        Assert.Equal(3, (await _client.GetJsonAsync("/runs"))["runs"]!.AsArray().Count);
        Assert.Equal(5, (await _client.GetJsonAsync("/runs?page_size=1000000000000"))["runs"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("/runs?page_size=0")]
    [InlineData("/runs?page_size=-1")]
    [InlineData("/runs?page_size=abc")]
    [InlineData("/runs?page_size=1.5")]
    [InlineData("/runs?page_token=not-a-token")]
    [InlineData("/runs?page_token=%00%01")]
    [InlineData("/runs?page_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task BadQueryString_Is400(string url)
    {
        using var response = await _client.GetAsync(url);

        await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ForgedOrForeignPageToken_IsRefused()
    {
        for (var i = 0; i < 3; i++)
        {
            await _client.SubmitAsync(new RunRequestBuilder());
        }

        var token = (await _client.GetJsonAsync("/runs?page_size=1"))["next_page_token"]!.GetValue<string>();
        var forged = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];
        var runId = await _client.SubmitAsync(new RunRequestBuilder());

        await JsonAssert.ErrorAsync(await _client.GetAsync($"/runs?page_token={forged}"), HttpStatusCode.BadRequest);
        // A token of the run listing is not a position in a task listing.
        await JsonAssert.ErrorAsync(await _client.GetAsync($"/runs/{runId}/tasks?page_token={token}"), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/runs?page_token={token}")).StatusCode);
    }
}
