using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>The extension endpoints behind the dashboard, with authentication on, on SQLite and on PostgreSQL.</summary>
public abstract class DashboardEndpointContract : IDisposable
{
    private readonly WesApplicationFactory _factory;
    private readonly WesClient _alice;
    private readonly WesClient _bob;
    private readonly WesClient _admin;

    protected DashboardEndpointContract(string? connectionString)
    {
        var settings = TestAuth.TokenSettings();
        if (connectionString is not null)
        {
            settings["Wes:Database"] = connectionString;
        }

        _factory = new WesApplicationFactory(settings: settings);
        _alice = _factory.CreateWesClient(token: TestAuth.AliceToken);
        _bob = _factory.CreateWesClient(token: TestAuth.BobToken);
        _admin = _factory.CreateWesClient(token: TestAuth.AdminToken);
    }

    public void Dispose()
    {
        _alice.Dispose();
        _bob.Dispose();
        _admin.Dispose();
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task SearchRuns_FiltersByStateTagAndTextNewestFirst()
    {
        var plain = await FinishedAsync(_alice, """{"project": "apollo"}""");
        var failed = await FinishedAsync(_alice, """{"project": "apollo", "wes.mock.outcome": "EXECUTOR_ERROR"}""");
        var other = await FinishedAsync(_alice, """{"project": "gemini", "note": "50% done_x"}""");

        Assert.Equal([other, failed, plain], await IdsAsync(_alice, "dashboard/runs"));
        Assert.Equal([failed, plain], await IdsAsync(_alice, "dashboard/runs?tag=project=apollo"));
        Assert.Equal([other, failed, plain], await IdsAsync(_alice, "dashboard/runs?tag=project"));
        Assert.Equal([other], await IdsAsync(_alice, "dashboard/runs?tag=note"));
        Assert.Equal([failed], await IdsAsync(_alice, "dashboard/runs?state=EXECUTOR_ERROR"));
        Assert.Equal([other, plain], await IdsAsync(_alice, "dashboard/runs?state=COMPLETE&state=QUEUED"));
        Assert.Equal([failed, plain], await IdsAsync(_alice, "dashboard/runs?state=EXECUTOR_ERROR,COMPLETE&tag=project=apollo"));
        Assert.Equal([other], await IdsAsync(_alice, "dashboard/runs?q=GEMINI"));
        // % and _ are matched as themselves, not as wildcards.
        Assert.Equal([other], await IdsAsync(_alice, $"dashboard/runs?q={Uri.EscapeDataString("50% done_")}"));
        Assert.Empty(await IdsAsync(_alice, $"dashboard/runs?q={Uri.EscapeDataString("5_%")}"));
        Assert.Equal([plain], await IdsAsync(_alice, $"dashboard/runs?q={plain[..13]}"));

        var row = (await _alice.GetJsonAsync("/dashboard/runs?state=EXECUTOR_ERROR"))["runs"]![0]!;
        Assert.Equal("CWL", row["workflow_type"]!.GetValue<string>());
        Assert.Equal("hello.cwl", row["workflow_url"]!.GetValue<string>());
        Assert.Equal("cwltool", row["engine"]!.GetValue<string>());
        Assert.NotNull(row["submitted_time"]);
        Assert.NotNull(row["end_time"]);
    }

    [Fact]
    public async Task SearchRuns_MatchesTextAgainstDecodedTagKeysAndValuesOnly()
    {
        var zurich = await FinishedAsync(_alice, """{"city": "Zürich"}""");
        var markup = await FinishedAsync(_alice, """{"label": "<b>a&b's+c</b>"}""");

        Assert.Equal([zurich], await IdsAsync(_alice, $"dashboard/runs?q={Uri.EscapeDataString("Zürich")}"));
        Assert.Equal([markup], await IdsAsync(_alice, $"dashboard/runs?q={Uri.EscapeDataString("<b>a&b's+c")}"));
        Assert.Equal([markup], await IdsAsync(_alice, "dashboard/runs?q=LABEL"));
        // The stored JSON's own quotes, colons and braces are not part of any tag.
        foreach (var text in (string[])["\"", ":", "{", "\\u"])
        {
            Assert.Empty(await IdsAsync(_alice, $"dashboard/runs?q={Uri.EscapeDataString(text)}"));
        }
    }

    [Fact]
    public async Task Search_ReadsABoundedWindowPerPageAndContinuesWhereItStopped()
    {
        var oldest = await _alice.SubmitAsync(new RunRequestBuilder().WithTags("""{"note": "needle"}"""));
        for (var i = 0; i < 3; i++)
        {
            await _alice.SubmitAsync(new RunRequestBuilder());
        }

        var newest = await _alice.SubmitAsync(new RunRequestBuilder().WithTags("""{"note": "needle"}"""));
        var store = _factory.Service<RunStore>();
        foreach (var filter in (RunFilter[])[new([], null, null, "needle"), new([], "note", "needle", null)])
        {
            var found = new List<string>();
            var pages = 0;
            long? before = null;
            do
            {
                var page = await store.SearchAsync(filter, before, 10, 2, null, CancellationToken.None);
                found.AddRange(page.Runs.Select(r => r.RunId));
                before = page.StoppedAt;
                pages++;
            }
            while (before is not null);

            Assert.Equal([newest, oldest], found);
            Assert.True(pages >= 3, $"the search read all five runs in {pages} pages");
        }
    }

    [Fact]
    public async Task SearchRuns_PagesThroughOnlyTheCallersRunsWithTokensBoundToTheCaller()
    {
        var mine = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            mine.Add(await _alice.SubmitAsync(new RunRequestBuilder()));
        }

        var bobs = await _bob.SubmitAsync(new RunRequestBuilder());

        var first = await _alice.GetJsonAsync("/dashboard/runs?page_size=2");
        var token = first["next_page_token"]!.GetValue<string>();
        var seen = new List<string>(Ids(first));
        while (token.Length > 0)
        {
            var page = await _alice.GetJsonAsync($"/dashboard/runs?page_size=2&page_token={Uri.EscapeDataString(token)}");
            seen.AddRange(Ids(page));
            token = page["next_page_token"]!.GetValue<string>();
        }

        Assert.Equal(Enumerable.Reverse(mine), seen);
        Assert.Equal([bobs], await IdsAsync(_bob, "dashboard/runs"));
        Assert.Equal([bobs, .. Enumerable.Reverse(mine)], await IdsAsync(_admin, "dashboard/runs"));
        using var stolen = await _bob.GetAsync($"/dashboard/runs?page_size=2&page_token={Uri.EscapeDataString(first["next_page_token"]!.GetValue<string>())}");
        await JsonAssert.ErrorAsync(stolen, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task SearchRuns_AnswersNotModifiedUntilARunChanges()
    {
        var runId = await _alice.SubmitAsync(new RunRequestBuilder().WithTags("""{"wes.mock.delay_ms": "60000"}"""));
        await _alice.WaitForAsync(runId, "RUNNING");
        using var first = await _alice.GetAsync("/dashboard/runs");
        var etag = first.Headers.ETag!;

        Assert.Equal(HttpStatusCode.NotModified, (await ConditionalGetAsync(etag)).StatusCode);

        await _alice.Http.PostAsync(_alice.Url($"/runs/{runId}/cancel"), null);
        await _alice.WaitForTerminalAsync(runId);
        using var changed = await ConditionalGetAsync(etag);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Contains("CANCELED", await changed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        async Task<HttpResponseMessage> ConditionalGetAsync(EntityTagHeaderValue tag)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, _alice.Url("/dashboard/runs"));
            request.Headers.IfNoneMatch.Add(tag);
            return await _alice.Http.SendAsync(request);
        }
    }

    [Theory]
    [InlineData("/dashboard/runs?state=DONE")]
    [InlineData("/dashboard/runs?tag=%3Dvalue")]
    [InlineData("/dashboard/runs?page_size=0")]
    [InlineData("/dashboard/runs?page_token=forged")]
    [InlineData("/dashboard/finished-per-hour?hours=0")]
    [InlineData("/dashboard/finished-per-hour?hours=many")]
    [InlineData("/dashboard/finished-per-hour?hours=100000")]
    public async Task BadQuery_GetsA400ErrorResponse(string path)
    {
        using var response = await _alice.GetAsync(path);
        await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task WithoutAToken_TheExtensionsAnswer401()
    {
        using var anonymous = _factory.CreateWesClient();
        foreach (var path in (string[])["/dashboard/runs", "/dashboard/finished-per-hour", "/runs/some-run/history"])
        {
            using var response = await anonymous.GetAsync(path);
            await JsonAssert.ErrorAsync(response, HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task History_ListsEveryStateChangeAndIsTheOwnersOnly()
    {
        var runId = await FinishedAsync(_alice, "{}");

        var history = await _alice.GetJsonAsync($"/runs/{runId}/history");
        Assert.Equal(["QUEUED", "INITIALIZING", "RUNNING", "COMPLETE"],
            history["transitions"]!.AsArray().Select(t => t!["to_state"]!.GetValue<string>()));
        Assert.Equal("COMPLETE", history["state"]!.GetValue<string>());
        Assert.Equal(1, history["attempt"]!.GetValue<int>());
        Assert.Equal(0, history["earlier_executions"]!.GetValue<int>());
        Assert.Equal("Mock", history["provider"]!.GetValue<string>());
        Assert.EndsWith("Z", history["transitions"]![0]!["time"]!.GetValue<string>(), StringComparison.Ordinal);

        using var refused = await _bob.GetAsync($"/runs/{runId}/history");
        await JsonAssert.ErrorAsync(refused, HttpStatusCode.Forbidden);
        using var unknown = await _alice.GetAsync("/runs/no-such-run/history");
        await JsonAssert.ErrorAsync(unknown, HttpStatusCode.NotFound);
        await _admin.GetJsonAsync($"/runs/{runId}/history");
    }

    [Fact]
    public async Task FinishedPerHour_CountsTheCallersRunsByFinalStateInTheCurrentHour()
    {
        await FinishedAsync(_alice, "{}");
        await FinishedAsync(_alice, """{"wes.mock.outcome": "EXECUTOR_ERROR"}""");
        await FinishedAsync(_bob, "{}");

        var answer = await _alice.GetJsonAsync("/dashboard/finished-per-hour?hours=3");
        var buckets = answer["buckets"]!.AsArray();
        Assert.Equal(3, buckets.Count);
        Assert.True(DateTimeOffset.UtcNow - DateTimeOffset.Parse(buckets[^1]!["hour"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) < TimeSpan.FromHours(1));
        // Summed over the window: the runs may end on either side of an hour's turn.
        Assert.Equal(1, Total(buckets, "COMPLETE"));
        Assert.Equal(1, Total(buckets, "EXECUTOR_ERROR"));
        var all = (await _admin.GetJsonAsync("/dashboard/finished-per-hour?hours=3"))["buckets"]!.AsArray();
        Assert.Equal(2, Total(all, "COMPLETE"));

        static long Total(JsonArray buckets, string state) =>
            buckets.Sum(b => b!["counts"]![state]?.GetValue<long>() ?? 0);
    }

    private static async Task<string> FinishedAsync(WesClient client, string tags)
    {
        var runId = await client.SubmitAsync(new RunRequestBuilder().WithTags(tags));
        await client.WaitForTerminalAsync(runId);
        return runId;
    }

    private static async Task<IReadOnlyList<string>> IdsAsync(WesClient client, string path) =>
        Ids(await client.GetJsonAsync("/" + path));

    private static IReadOnlyList<string> Ids(JsonObject page) =>
        page["runs"]!.AsArray().Select(r => r!["run_id"]!.GetValue<string>()).ToList();
}

public sealed class SqliteDashboardEndpointTests() : DashboardEndpointContract(null);

[Collection(PostgresCollection.Name)]
public sealed class PostgresDashboardEndpointTests(PostgresServer postgres) : DashboardEndpointContract(postgres.CreateDatabase());
