using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

public sealed class SubmitRunTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 0);
    private readonly WesClient _client;

    public SubmitRunTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task JsonSubmission_FromTheReadmeCurlIsAccepted()
    {
        using var client = _factory.CreateWesClient("/api/ga4gh/wes/v1");
        const string body = """{"workflow_params": {"outputUri": "s3://my-bucket/outputs/"}, "workflow_type": "CWL", "workflow_type_version": "1.0", "workflow_url": "https://example.com/workflows/hello-world.cwl"}""";

        using var response = await client.PostJsonAsync("/runs", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var runId = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["run_id"]!.GetValue<string>();
        var log = await client.GetJsonAsync($"/runs/{runId}");
        Assert.Equal("QUEUED", log["state"]!.GetValue<string>());
        Assert.Equal("s3://my-bucket/outputs/", log["request"]!["workflow_params"]!["outputUri"]!.GetValue<string>());
        Assert.Equal("https://example.com/workflows/hello-world.cwl", log["request"]!["workflow_url"]!.GetValue<string>());
    }

    [Fact]
    public async Task JsonSubmissionWithoutAttachments_WritesNoFilesAndKeepsItsRequestInTheRun()
    {
        var runId = await _client.SubmitAsync(new RunRequestBuilder().WithoutAttachments()
            .With("workflow_url", "https://example.com/workflows/hello.cwl").With("workflow_params", """{"x": 1}"""));

        Assert.False(Directory.Exists(Path.Combine(_factory.RunsDir, runId)), "a run folder was written at submission");
        var log = await _client.GetJsonAsync($"/runs/{runId}");
        Assert.Equal(1, log["request"]!["workflow_params"]!["x"]!.GetValue<int>());
    }

    [Fact]
    public async Task MultipartSubmission_KeepsAttachmentSubfolders()
    {
        var request = RunRequestBuilder.ForExample("pipeline", "workflow.cwl", "v1.2");

        var runId = await _client.SubmitAsync(request);

        var exe = Path.Combine(_factory.RunsDir, runId, "exe");
        Assert.Equal(Examples.Bytes("pipeline/tools/upper.cwl"), File.ReadAllBytes(Path.Combine(exe, "tools", "upper.cwl")));
        Assert.Equal(Examples.Bytes("pipeline/data/words.txt"), File.ReadAllBytes(Path.Combine(exe, "data", "words.txt")));
        // The request is stored once, in the run's row.
        Assert.False(File.Exists(Path.Combine(_factory.RunsDir, runId, "request.json")));
        Assert.Empty(Directory.GetDirectories(_factory.RunsDir, ".staging-*"));
    }

    [Fact]
    public async Task StockClientSpellings_AreAccepted()
    {
        // Toil's client sends lowercase "cwl"; nobody sends workflow_engine; "1.0" and "v1.0" are both common.
        var runId = await _client.SubmitAsync(new RunRequestBuilder().With("workflow_type", "cwl").With("workflow_type_version", "1.0"));

        var log = await _client.GetJsonAsync($"/runs/{runId}");
        Assert.Equal("cwl", log["request"]!["workflow_type"]!.GetValue<string>());
        Assert.False(log["request"]!.AsObject().ContainsKey("workflow_engine"));
        Assert.Equal("QUEUED", log["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task FormFieldsSentAsFileParts_AreReadAsFields()
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in new[] { ("workflow_type", "CWL"), ("workflow_type_version", "v1.0"), ("workflow_url", "hello.cwl"), ("workflow_params", """{"message": "as file"}""") })
        {
            var part = new ByteArrayContent(Encoding.UTF8.GetBytes(value));
            part.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = $"\"{name}\"", FileName = "\"blob\"" };
            form.Add(part);
        }

        var attachment = new ByteArrayContent(Examples.Bytes("hello/hello.cwl"));
        attachment.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"workflow_attachment\"", FileName = "\"hello.cwl\"" };
        form.Add(attachment);

        using var response = await _client.Http.PostAsync(_client.Url("/runs"), form);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var runId = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["run_id"]!.GetValue<string>();
        Assert.Equal("as file", (await _client.GetJsonAsync($"/runs/{runId}"))["request"]!["workflow_params"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task EngineParameters_AreAcceptedWithOrWithoutDashes()
    {
        var runId = await _client.SubmitAsync(new RunRequestBuilder()
            .With("workflow_engine", "cwltool")
            .With("workflow_engine_parameters", """{"--parallel": "true", "on_error": "continue"}"""));

        var request = (await _client.GetJsonAsync($"/runs/{runId}"))["request"]!;
        Assert.Equal("true", request["workflow_engine_parameters"]!["--parallel"]!.GetValue<string>());
    }

    public static TheoryData<string, RunRequestBuilder, string> BadMultipartRequests() => new()
    {
        { "missing workflow_type", new RunRequestBuilder().With("workflow_type", null), "workflow_type is required" },
        { "unknown workflow_type", new RunRequestBuilder().With("workflow_type", "WDL"), "not supported" },
        { "unknown type version", new RunRequestBuilder().With("workflow_type_version", "v9.9"), "workflow_type_version" },
        { "missing type version", new RunRequestBuilder().With("workflow_type_version", null), "workflow_type_version is required" },
        { "missing workflow_url", new RunRequestBuilder().With("workflow_url", null), "workflow_url is required" },
        { "unknown engine", new RunRequestBuilder().With("workflow_engine", "nextflow"), "workflow_engine" },
        { "engine version without engine", new RunRequestBuilder().With("workflow_engine_version", "1.0"), "needs workflow_engine" },
        { "engine version not installed", new RunRequestBuilder().With("workflow_engine", "cwltool").With("workflow_engine_version", "0.0.1"), "not available" },
        { "params not JSON", new RunRequestBuilder().With("workflow_params", "{not json"), "workflow_params is not valid JSON" },
        { "params not an object", new RunRequestBuilder().With("workflow_params", "[1,2]"), "workflow_params must be a JSON object" },
        { "params with a duplicate name", new RunRequestBuilder().With("workflow_params", """{"a": 1, "a": 2}"""), "appears twice" },
        { "tags not an object", new RunRequestBuilder().WithTags("\"x\""), "tags must be a JSON object" },
        { "tags with nested values", new RunRequestBuilder().WithTags("""{"a": {"b": 1}}"""), "tags must map names to strings" },
        { "unknown engine parameter", new RunRequestBuilder().With("workflow_engine_parameters", """{"--rm-everything": "true"}"""), "not a parameter of cwltool" },
        { "engine parameter of the wrong type", new RunRequestBuilder().With("workflow_engine_parameters", """{"parallel": "yes"}"""), "must be true or false" },
        { "engine parameter outside its choices", new RunRequestBuilder().With("workflow_engine_parameters", """{"on_error": "explode"}"""), "must be one of" },
        { "parent folder in attachment", new RunRequestBuilder().WithAttachment("../evil.cwl", "x"), "parent folder" },
        { "nested parent folder", new RunRequestBuilder().WithAttachment("a/../../evil.cwl", "x"), "parent folder" },
        { "absolute attachment", new RunRequestBuilder().WithAttachment("/etc/evil.cwl", "x"), "absolute path" },
        { "backslash in attachment", new RunRequestBuilder().WithAttachment("a\\b.cwl", "x"), "backslash" },
        { "NUL in attachment", new RunRequestBuilder().WithAttachment("a\0b.cwl", "x"), "control character" },
        { "empty segment", new RunRequestBuilder().WithAttachment("a//b.cwl", "x"), "empty path segment" },
        { "duplicate attachment", new RunRequestBuilder().WithAttachment("hello.cwl", "again"), "attached twice" },
        { "duplicate after ./", new RunRequestBuilder().WithAttachment("./hello.cwl", "again"), "attached twice" },
        { "reserved params name", new RunRequestBuilder().WithAttachment(".wes-params.json", "{}"), "reserved" },
        { "relative url not attached", new RunRequestBuilder().With("workflow_url", "missing.cwl"), "no workflow_attachment has that name" },
        { "relative url escaping", new RunRequestBuilder().With("workflow_url", "../hello.cwl"), "parent folder" },
        { "file url", new RunRequestBuilder().With("workflow_url", "file:///etc/passwd"), "scheme 'file' is not supported" },
        { "ftp url", new RunRequestBuilder().With("workflow_url", "ftp://example.com/x.cwl"), "scheme 'ftp' is not supported" },
    };

    [Theory]
    [MemberData(nameof(BadMultipartRequests))]
    public async Task BadMultipartRequest_Is400AndStoresNothing(string because, RunRequestBuilder request, string expected)
    {
        using var response = await request.SendAsync(_client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        await AssertNothingStoredAsync(because);
    }

    public static TheoryData<string, string, string> BadJsonBodies() => new()
    {
        { "malformed JSON", "{\"workflow_type\": ", "not valid JSON" },
        { "array body", "[]", "must be an object" },
        { "number for workflow_type", """{"workflow_type": 5, "workflow_type_version": "v1.0", "workflow_url": "https://example.com/a.cwl"}""", "workflow_type must be a string" },
        { "params as array", """{"workflow_type": "CWL", "workflow_type_version": "v1.0", "workflow_url": "https://example.com/a.cwl", "workflow_params": [1]}""", "workflow_params must be a JSON object" },
        { "params as text that is not an object", """{"workflow_type": "CWL", "workflow_type_version": "v1.0", "workflow_url": "https://example.com/a.cwl", "workflow_params": "42"}""", "workflow_params must be a JSON object" },
        { "attachments in JSON", """{"workflow_type": "CWL", "workflow_type_version": "v1.0", "workflow_url": "https://example.com/a.cwl", "workflow_attachment": ["x"]}""", "multipart/form-data" },
        { "duplicate top-level field", """{"workflow_type": "CWL", "workflow_type": "WDL", "workflow_type_version": "v1.0", "workflow_url": "https://example.com/a.cwl"}""", "appears twice" },
        { "duplicate tag", """{"workflow_type": "CWL", "workflow_type_version": "v1.0", "workflow_url": "https://example.com/a.cwl", "tags": {"a": "1", "a": "2"}}""", "appears twice" },
        { "duplicate nested param", """{"workflow_type": "CWL", "workflow_type_version": "v1.0", "workflow_url": "https://example.com/a.cwl", "workflow_params": {"x": {"a": 1, "a": 2}}}""", "appears twice" },
        { "relative url without attachments", """{"workflow_type": "CWL", "workflow_type_version": "v1.0", "workflow_url": "hello.cwl"}""", "no workflow_attachment" },
    };

    [Theory]
    [MemberData(nameof(BadJsonBodies))]
    public async Task BadJsonBody_Is400AndStoresNothing(string because, string body, string expected)
    {
        using var response = await _client.PostJsonAsync("/runs", body);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        await AssertNothingStoredAsync(because);
    }

    [Fact]
    public async Task UnsupportedContentType_Is415()
    {
        using var response = await _client.Http.PostAsync(_client.Url("/runs"), new StringContent("workflow_type=CWL", Encoding.UTF8, "text/plain"));

        await JsonAssert.ErrorAsync(response, HttpStatusCode.UnsupportedMediaType);
        await AssertNothingStoredAsync("text/plain body");
    }

    [Fact]
    public async Task SeveralProblems_AreAllReportedInOneAnswer()
    {
        using var response = await new RunRequestBuilder().With("workflow_url", null).With("workflow_params", "[]").SendAsync(_client);

        var msg = (await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest))["msg"]!.GetValue<string>();
        Assert.Contains("workflow_url is required", msg, StringComparison.Ordinal);
        Assert.Contains("workflow_params must be a JSON object", msg, StringComparison.Ordinal);
    }

    private async Task AssertNothingStoredAsync(string because)
    {
        Assert.True(await _client.CountRunsAsync() == 0, $"{because}: a run was stored");
        var leftovers = Directory.Exists(_factory.RunsDir) ? Directory.GetFileSystemEntries(_factory.RunsDir) : [];
        Assert.True(leftovers.Length == 0, $"{because}: files were written: {string.Join(", ", leftovers)}");
    }
}
