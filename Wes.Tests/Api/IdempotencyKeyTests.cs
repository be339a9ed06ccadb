using System.Net;
using System.Text.Json.Nodes;
using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>
/// POST /runs with an Idempotency-Key: a retry of the same request answers the first run and stores nothing, the same
/// key with another request is a 422, concurrent retries make one run, and an expired key may be used again. Checked
/// on each database, since the key row shares the run's transaction.
/// </summary>
public abstract class IdempotencyKeyContract : IDisposable
{
    private readonly Dictionary<string, string?> _settings;
    private readonly List<WesApplicationFactory> _factories = [];

    protected IdempotencyKeyContract(string? connectionString) =>
        _settings = connectionString is null ? [] : new Dictionary<string, string?> { ["Wes:Database"] = connectionString };

    public void Dispose()
    {
        _factories.ForEach(factory => factory.Dispose());
        GC.SuppressFinalize(this);
    }

    private (WesApplicationFactory Factory, WesClient Client) Server(Dictionary<string, string?>? extra = null, string? token = null)
    {
        var settings = new Dictionary<string, string?>(_settings);
        foreach (var (name, value) in extra ?? [])
        {
            settings[name] = value;
        }

        var factory = new WesApplicationFactory(workers: 0, settings: settings);
        _factories.Add(factory);
        return (factory, factory.CreateWesClient(token: token));
    }

    private static RunRequestBuilder Request(string message = "hi") =>
        new RunRequestBuilder().With("workflow_params", $$$"""{"message": "{{{message}}}", "n": {"a": 1, "b": [1, 2]}}""")
            .WithAttachment("data/words.txt", "alpha beta\n");

    private static async Task<HttpResponseMessage> PostAsync(WesClient client, HttpContent content, params string[] keys)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, client.Url("/runs")) { Content = content };
        if (keys.Length > 0)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", keys);
        }

        return await client.Http.SendAsync(request);
    }

    private static async Task<string> RunIdAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST /runs: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["run_id"]!.GetValue<string>();
    }

    private static Task<string> SubmitAsync(WesClient client, RunRequestBuilder request, string key) =>
        SendAsync(client, request.ToMultipart(), key);

    private static async Task<string> SendAsync(WesClient client, HttpContent content, string key)
    {
        using var response = await PostAsync(client, content, key);
        return await RunIdAsync(response);
    }

    private static async Task<long> ScalarAsync(WesApplicationFactory factory, string sql)
    {
        await using var connection = await factory.Service<IRunDatabase>().OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Task<long> KeyRowsAsync(WesApplicationFactory factory) => ScalarAsync(factory, "SELECT COUNT(*) FROM submission_keys");

    /// <summary>Every entry of the runs folder: one folder per stored run, and no staging folder left behind.</summary>
    private static string[] RunFolders(WesApplicationFactory factory) =>
        Directory.Exists(factory.RunsDir) ? Directory.GetFileSystemEntries(factory.RunsDir).Select(path => Path.GetFileName(path)!).ToArray() : [];

    [Fact]
    public async Task Retry_AnswersTheFirstRun_AndStoresNothingMore()
    {
        var (factory, client) = Server();

        var first = await SubmitAsync(client, Request(), "retry-1");
        var again = await SubmitAsync(client, Request(), "retry-1");

        Assert.Equal(first, again);
        Assert.Equal(1, await client.CountRunsAsync());
        Assert.Equal(1, await KeyRowsAsync(factory));
        Assert.Equal([first], RunFolders(factory));
    }

    [Fact]
    public async Task WithoutAKey_EverySubmissionIsARun()
    {
        var (_, client) = Server();

        Assert.NotEqual(await client.SubmitAsync(Request()), await client.SubmitAsync(Request()));
    }

    [Fact]
    public async Task SameRequestInAnotherOrder_IsTheSameRequest()
    {
        var (_, client) = Server();
        var json = """{"workflow_type": "CWL", "workflow_type_version": "v1.0", "workflow_url": "https://8.8.8.8/hello.cwl", "workflow_params": {"a": 1, "b": {"x": [1, 2], "y": "z"}}}""";
        var reordered = """{"workflow_params": {"b": {"y": "z", "x": [1, 2]}, "a": 1}, "workflow_url": "https://8.8.8.8/hello.cwl", "workflow_type_version": "v1.0", "workflow_type": "CWL"}""";

        var first = await SendAsync(client, new StringContent(json, System.Text.Encoding.UTF8, "application/json"), "json-1");
        var again = await SendAsync(client, new StringContent(reordered, System.Text.Encoding.UTF8, "application/json"), "json-1");

        Assert.Equal(first, again);
    }

    public static TheoryData<string> Changes() => ["params", "attachment content", "attachment name", "extra attachment"];

    [Theory]
    [MemberData(nameof(Changes))]
    public async Task SameKey_WithADifferentRequest_Is422(string change)
    {
        var (factory, client) = Server();
        var first = await SubmitAsync(client, Request(), "changed-1");
        var other = change switch
        {
            "params" => Request("hello"),
            "attachment content" => new RunRequestBuilder().With("workflow_params", """{"message": "hi", "n": {"a": 1, "b": [1, 2]}}""").WithAttachment("data/words.txt", "alpha gamma\n"),
            "attachment name" => new RunRequestBuilder().With("workflow_params", """{"message": "hi", "n": {"a": 1, "b": [1, 2]}}""").WithAttachment("data/other.txt", "alpha beta\n"),
            _ => Request().WithAttachment("more.txt", "x"),
        };

        using var response = await PostAsync(client, other.ToMultipart(), "changed-1");

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Contains("Idempotency-Key was used for a different request", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, await client.CountRunsAsync());
        Assert.Equal([first], RunFolders(factory));
    }

    [Fact]
    public async Task ConcurrentRetries_MakeOneRun_AndAllAnswerIt()
    {
        var (factory, client) = Server();
        var bodies = Enumerable.Range(0, 20).Select(_ => Request().ToMultipart()).ToList();

        var responses = await Task.WhenAll(bodies.Select(body => PostAsync(client, body, "burst-1")));

        var ids = await Task.WhenAll(responses.Select(RunIdAsync));
        Assert.Single(ids.Distinct());
        Assert.Equal(1, await client.CountRunsAsync());
        Assert.Equal(1, await KeyRowsAsync(factory));
        Assert.Equal([ids[0]], RunFolders(factory));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task ExpiredKey_MayBeUsedForANewRequest()
    {
        var (factory, client) = Server(new() { ["Wes:Idempotency:KeyHours"] = "24" });
        var first = await SubmitAsync(client, Request(), "old-1");
        await ScalarAsync(factory, $"UPDATE submission_keys SET created_at = created_at - {(long)TimeSpan.FromHours(25).TotalMilliseconds}");

        var second = await SubmitAsync(client, Request("a new request"), "old-1");
        var retry = await SubmitAsync(client, Request("a new request"), "old-1");

        Assert.NotEqual(first, second);
        Assert.Equal(second, retry);
        Assert.Equal(2, await client.CountRunsAsync());
        Assert.Equal(1, await KeyRowsAsync(factory));
    }

    [Fact]
    public async Task KeysArePerUser()
    {
        var (factory, alice) = Server(TestAuth.TokenSettings(), TestAuth.AliceToken);
        using var bob = factory.CreateWesClient(token: TestAuth.BobToken);

        var aliceRun = await SubmitAsync(alice, Request(), "shared-1");
        var bobRun = await SubmitAsync(bob, Request("bob's own"), "shared-1");

        Assert.NotEqual(aliceRun, bobRun);
        Assert.Equal(aliceRun, await SubmitAsync(alice, Request(), "shared-1"));
    }

    [Fact]
    public async Task Retry_IsAnsweredEvenWhenTheQueueHasFilled()
    {
        var (_, client) = Server(new() { ["Wes:Limits:MaxQueuedRunsPerUser"] = "1" });
        var first = await SubmitAsync(client, Request(), "full-1");

        Assert.Equal(first, await SubmitAsync(client, Request(), "full-1"));
        using var other = await PostAsync(client, Request().ToMultipart(), "full-2");
        await JsonAssert.ErrorAsync(other, HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task RefusedRequest_DoesNotUseUpItsKey()
    {
        var (_, client) = Server();
        using var refused = await PostAsync(client, Request().With("workflow_type_version", "v9").ToMultipart(), "fix-1");
        await JsonAssert.ErrorAsync(refused, HttpStatusCode.BadRequest);

        var runId = await SubmitAsync(client, Request(), "fix-1");

        Assert.Equal(runId, (await client.GetJsonAsync("/runs"))["runs"]![0]!["run_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnreadableRequest_WithAUsedKey_IsStill400()
    {
        var (_, client) = Server();
        await SubmitAsync(client, new RunRequestBuilder().With("workflow_params", "{}"), "bad-1");

        using var response = await PostAsync(client, new RunRequestBuilder().With("workflow_params", "{not json").ToMultipart(), "bad-1");

        await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
    }

    public static TheoryData<string[]> BadKeys() => [[new string('k', 256)], ["tab\tinside"], ["caf\u00e9"], ["del\u007f"], ["one", "two"]];

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task MalformedKey_Is400_AndStoresNothing(string[] keys)
    {
        var (factory, client) = Server();

        using var response = await PostAsync(client, Request().ToMultipart(), keys);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("Idempotency-Key", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await client.CountRunsAsync());
        Assert.Empty(RunFolders(factory));
    }

    [Fact]
    public async Task LongestKey_OfPrintableCharacters_IsAccepted()
    {
        var (_, client) = Server();
        var key = string.Concat(Enumerable.Range(0, 255).Select(i => (char)(' ' + 1 + (i % 94))));

        Assert.Equal(await SubmitAsync(client, Request(), key), await SubmitAsync(client, Request(), key));
    }
}

public sealed class IdempotencyKeyHeaderTests
{
    [Fact]
    public void EmptyKey_Is400()
    {
        // HttpClient does not send a header without a value; a client on a raw socket can.
        var error = Assert.Throws<Wes.Api.ApiException>(() =>
            Wes.Api.IdempotencyKeys.Read(new Microsoft.AspNetCore.Http.HeaderDictionary { ["Idempotency-Key"] = "" }));

        Assert.Equal(400, error.StatusCode);
    }
}

public sealed class SqliteIdempotencyKeyTests() : IdempotencyKeyContract(null);

[Collection(PostgresCollection.Name)]
public sealed class PostgresIdempotencyKeyTests(PostgresServer postgres) : IdempotencyKeyContract(postgres.CreateDatabase());
