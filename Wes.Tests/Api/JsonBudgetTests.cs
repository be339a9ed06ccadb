using System.Net;
using System.Text;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>
/// A request's JSON is held to a depth, an element count shared by all its JSON, and a raw size per top-level field,
/// all checked on the bytes before a document is built: refused with 413 (too big, too many) or 400 (too deep).
/// </summary>
public sealed class JsonBudgetTests : IDisposable
{
    private const string Head = """{"workflow_type": "CWL", "workflow_type_version": "v1.0", "workflow_url": "https://example.com/a.cwl", """;

    private readonly WesApplicationFactory _factory = new(workers: 0, settings: new Dictionary<string, string?>
    {
        ["Wes:Limits:MaxJsonDepth"] = "8",
        ["Wes:Limits:MaxJsonElements"] = "1000",
    });

    private readonly WesClient _client;

    public JsonBudgetTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Theory]
    [InlineData("workflow_params")]
    [InlineData("unknown_field")]
    public async Task BodyOfTinyArrayItemsJustUnderTheSizeLimit_Is413(string field)
    {
        // Default limits: a 30 MB body, whose 14 million zeros would make a document of over a gigabyte.
        using var factory = new WesApplicationFactory(workers: 0);
        using var client = factory.CreateWesClient();
        var body = TinyItems(field, 29_000_000);

        using var response = await client.PostJsonAsync("/runs", body);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("(Wes:Limits:MaxJsonElements)", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await client.CountRunsAsync());
    }

    [Fact]
    public async Task UnknownTopLevelField_IsHeldToTheFieldLimitAsSent()
    {
        using var factory = new WesApplicationFactory(workers: 0, settings: new Dictionary<string, string?> { ["Wes:Limits:MaxFieldBytes"] = "2048" });
        using var client = factory.CreateWesClient();

        // Whitespace counts: the limit is on the bytes sent, which is what a parser has to read and hold.
        using var spaces = await client.PostJsonAsync("/runs", Head + "\"workflow_params\": {\"a\": 1" + new string(' ', 2048) + "}}");
        using var unknown = await client.PostJsonAsync("/runs", Head + "\"workflow_params\": {}, \"extra\": \"" + new string('x', 2048) + "\"}");
        using var name = await client.PostJsonAsync("/runs", Head + "\"workflow_params\": {}, \"" + new string('n', 2048) + "\": 1}");

        var messages = new List<string>();
        foreach (var response in new[] { spaces, unknown, name })
        {
            messages.Add((await JsonAssert.ErrorAsync(response, HttpStatusCode.RequestEntityTooLarge))["msg"]!.GetValue<string>());
        }

        Assert.All(messages, message => Assert.Contains("(Wes:Limits:MaxFieldBytes)", message, StringComparison.Ordinal));
        Assert.StartsWith("Field workflow_params is larger", messages[0], StringComparison.Ordinal);
        Assert.Equal(0, await client.CountRunsAsync());
    }

    [Fact]
    public async Task NestingTenThousandDeep_Is400NamingTheSetting_InAJsonBodyAndInAFormField()
    {
        var deep = "{\"a\": " + new string('[', 10_000) + new string(']', 10_000) + "}";

        using var json = await _client.PostJsonAsync("/runs", Head + "\"workflow_params\": " + deep + "}");
        using var form = await new RunRequestBuilder().With("workflow_params", deep).SendAsync(_client);
        using var tags = await new RunRequestBuilder().WithTags(deep).SendAsync(_client);

        foreach (var response in new[] { json, form, tags })
        {
            var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
            Assert.Contains("nested more than 8 levels deep (Wes:Limits:MaxJsonDepth)", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal(0, await _client.CountRunsAsync());
    }

    [Fact]
    public async Task DepthCountsFromTheRunRequest_TheSameForJsonBodiesAndForms()
    {
        // The RunRequest is level 1 and workflow_params level 2, so six more levels fit under a limit of 8.
        static string Nested(int levels) => string.Concat(Enumerable.Repeat("{\"a\": ", levels)) + "1" + new string('}', levels);
        var fits = "{\"x\": " + Nested(6) + "}";
        var tooDeep = "{\"x\": " + Nested(7) + "}";

        await _client.SubmitAsync(new RunRequestBuilder().With("workflow_params", fits));
        using var jsonFits = await _client.PostJsonAsync("/runs", Head + "\"workflow_params\": " + fits + "}");
        using var formTooDeep = await new RunRequestBuilder().With("workflow_params", tooDeep).SendAsync(_client);
        using var jsonTooDeep = await _client.PostJsonAsync("/runs", Head + "\"workflow_params\": " + tooDeep + "}");

        Assert.Equal(HttpStatusCode.OK, jsonFits.StatusCode);
        await JsonAssert.ErrorAsync(formTooDeep, HttpStatusCode.BadRequest);
        await JsonAssert.ErrorAsync(jsonTooDeep, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ElementBudget_IsSharedByAllOfARequestsJson()
    {
        var params600 = "{\"x\": [" + string.Join(", ", Enumerable.Repeat("0", 600)) + "]}";
        var tags600 = "{" + string.Join(", ", Enumerable.Range(0, 300).Select(i => $"\"t{i}\": \"v\"")) + "}";

        // Each alone fits in 1000 values and names; together they do not, whichever way they are sent.
        await _client.SubmitAsync(new RunRequestBuilder().With("workflow_params", params600));
        await _client.SubmitAsync(new RunRequestBuilder().WithTags(tags600));
        using var form = await new RunRequestBuilder().With("workflow_params", params600).WithTags(tags600).SendAsync(_client);
        using var json = await _client.PostJsonAsync("/runs", Head + $"\"workflow_params\": {params600}, \"tags\": {tags600}}}");
        using var jsonText = await _client.PostJsonAsync("/runs",
            Head + $"\"workflow_params\": {params600}, \"tags\": \"{tags600.Replace("\"", "\\\"", StringComparison.Ordinal)}\"}}");

        foreach (var response in new[] { form, json, jsonText })
        {
            var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.RequestEntityTooLarge);
            Assert.Contains("more than 1000 values and property names (Wes:Limits:MaxJsonElements)", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal(2, await _client.CountRunsAsync());
    }

    [Fact]
    public async Task RealisticParamsUnderTheDefaults_AreAccepted()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var client = factory.CreateWesClient();
        // Five thousand File inputs: 25,000 values and names, about 400 KB.
        var files = string.Join(", ", Enumerable.Range(0, 5000).Select(i => $"{{\"class\": \"File\", \"location\": \"https://8.8.8.8/data/sample_{i:D5}.fastq.gz\"}}"));
        var builder = new RunRequestBuilder().With("workflow_params", $"{{\"reads\": [{files}]}}");

        var fromForm = await client.SubmitAsync(builder);
        using var fromJson = await client.PostJsonAsync("/runs", builder.WithoutAttachments().With("workflow_url", "https://example.com/a.cwl").ToJson());

        Assert.Equal(HttpStatusCode.OK, fromJson.StatusCode);
        Assert.Equal(5000, (await client.GetJsonAsync($"/runs/{fromForm}"))["request"]!["workflow_params"]!["reads"]!.AsArray().Count);
    }

    private static string TinyItems(string field, int size)
    {
        var head = Head + (field == "workflow_params" ? "" : "\"workflow_params\": {}, ") + "\"" + field + "\": {\"x\": [";
        const string tail = "0]}}";
        var body = new StringBuilder(size);
        body.Append(head);
        body.Insert(body.Length, "0,", (size - head.Length - tail.Length) / 2);
        return body.Append(tail).ToString();
    }
}
