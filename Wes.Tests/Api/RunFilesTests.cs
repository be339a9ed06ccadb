using System.Net;
using System.Text;
using Wes.Runs;
using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>The output and task-log endpoints: listing, byte-exact downloads, and every way out of the folder refused.</summary>
public sealed class RunFilesTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 0);
    private readonly WesClient _client;
    private readonly string _outside;

    public RunFilesTests()
    {
        _client = _factory.CreateWesClient();
        _outside = TempDirectory.Create("wes-outside");
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "not an output");
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
        TempDirectory.Delete(_outside);
    }

    /// <summary>A run whose outputs folder holds files, a link inside it, and links that lead out of it.</summary>
    private async Task<(string RunId, string Outputs)> RunWithOutputsAsync()
    {
        var runId = await _client.SubmitAsync(new RunRequestBuilder());
        var outputs = Path.Combine(_factory.RunsDir, runId, "outputs");
        Directory.CreateDirectory(Path.Combine(outputs, "results", "deep"));
        await File.WriteAllTextAsync(Path.Combine(outputs, "summary.txt"), "total 6\n");
        await File.WriteAllBytesAsync(Path.Combine(outputs, "results", "deep", "data.bin"), Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray());
        await File.WriteAllTextAsync(Path.Combine(outputs, "results", "with space & %.txt"), "odd name");
        File.CreateSymbolicLink(Path.Combine(outputs, "inside-link.txt"), Path.Combine(outputs, "summary.txt"));
        File.CreateSymbolicLink(Path.Combine(outputs, "escape.txt"), Path.Combine(_outside, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(outputs, "up"), Path.Combine(_factory.RunsDir, runId));
        Directory.CreateSymbolicLink(Path.Combine(outputs, "elsewhere"), _outside);
        return (runId, outputs);
    }

    [Fact]
    public async Task OutputList_HasEveryFileInsideTheFolderAndNothingOutside()
    {
        var (runId, _) = await RunWithOutputsAsync();

        var list = await _client.GetJsonAsync($"/runs/{runId}/outputs");

        var files = list["files"]!.AsArray().Select(f => f!).ToList();
        Assert.Equal(["inside-link.txt", "results/deep/data.bin", "results/with space & %.txt", "summary.txt"], files.Select(f => f["path"]!.GetValue<string>()));
        Assert.Equal(70_000, files[1]["size"]!.GetValue<long>());
        Assert.Equal($"http://localhost/ga4gh/wes/v1/runs/{runId}/outputs/results/with%20space%20%26%20%25.txt", files[2]["url"]!.GetValue<string>());
        Assert.Equal("", list["next_page_token"]!.GetValue<string>());
    }

    [Fact]
    public async Task OutputList_PagesWithoutRepeatingOrSkipping()
    {
        var (runId, _) = await RunWithOutputsAsync();

        var first = await _client.GetJsonAsync($"/runs/{runId}/outputs?page_size=3");
        var token = first["next_page_token"]!.GetValue<string>();
        var second = await _client.GetJsonAsync($"/runs/{runId}/outputs?page_size=3&page_token={Uri.EscapeDataString(token)}");

        var paths = first["files"]!.AsArray().Concat(second["files"]!.AsArray()).Select(f => f!["path"]!.GetValue<string>());
        Assert.Equal(["inside-link.txt", "results/deep/data.bin", "results/with space & %.txt", "summary.txt"], paths);
        Assert.Equal("", second["next_page_token"]!.GetValue<string>());
    }

    [Fact]
    public async Task OutputDownload_IsByteForByteWithLengthTypeAndRanges()
    {
        var (runId, outputs) = await RunWithOutputsAsync();
        var expected = await File.ReadAllBytesAsync(Path.Combine(outputs, "results", "deep", "data.bin"));

        using var whole = await _client.GetAsync($"/runs/{runId}/outputs/results/deep/data.bin");
        using var text = await _client.GetAsync($"/runs/{runId}/outputs/results/with%20space%20%26%20%25.txt");
        using var part = new HttpRequestMessage(HttpMethod.Get, _client.Url($"/runs/{runId}/outputs/results/deep/data.bin"));
        part.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(100, 199);
        using var range = await _client.Http.SendAsync(part);

        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(expected, await whole.Content.ReadAsByteArrayAsync());
        Assert.Equal(expected.Length, whole.Content.Headers.ContentLength);
        Assert.Equal("application/octet-stream", whole.Content.Headers.ContentType?.MediaType);
        Assert.Equal("odd name", await text.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", text.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal(expected[100..200], await range.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task OutputDownload_FollowsALinkThatStaysInside()
    {
        var (runId, _) = await RunWithOutputsAsync();

        using var response = await _client.GetAsync($"/runs/{runId}/outputs/inside-link.txt");

        Assert.Equal("total 6\n", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("..%2Frequest.json", HttpStatusCode.BadRequest)]
    [InlineData("..%2f..%2f..%2fwes.db", HttpStatusCode.BadRequest)]
    [InlineData("results%2F..%2F..%2Frequest.json", HttpStatusCode.BadRequest)]
    // HttpClient decodes %2E and removes the dot segments, so these two never reach the outputs route at all.
    [InlineData("%2E%2E/request.json", HttpStatusCode.NotFound)]
    [InlineData("results/%2e%2e/%2e%2e/request.json", HttpStatusCode.NotFound)]
    [InlineData("..%5Crequest.json", HttpStatusCode.BadRequest)]
    [InlineData("%2Fetc%2Fpasswd", HttpStatusCode.BadRequest)]
    [InlineData("escape.txt", HttpStatusCode.NotFound)]
    [InlineData("elsewhere/secret.txt", HttpStatusCode.NotFound)]
    [InlineData("up/request.json", HttpStatusCode.NotFound)]
    [InlineData("results", HttpStatusCode.NotFound)]
    [InlineData("missing.txt", HttpStatusCode.NotFound)]
    public async Task OutputDownload_RefusesEveryPathThatLeavesTheOutputsFolder(string path, HttpStatusCode expected)
    {
        var (runId, _) = await RunWithOutputsAsync();

        using var response = await _client.Http.GetAsync(_client.Url($"/runs/{runId}/outputs/") + path);

        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("not an output", body, StringComparison.Ordinal);
        Assert.DoesNotContain("workflow_url", body, StringComparison.Ordinal);
        Assert.True(response.StatusCode == expected, $"{path}: expected {(int)expected}, got {(int)response.StatusCode} {body}");
        JsonAssert.Error(body, (int)expected);
    }

    /// <summary>HttpClient removes dot segments before sending; these reach the server as written, as a raw request could.</summary>
    [Theory]
    [InlineData("../request.json")]
    [InlineData("results/../../request.json")]
    [InlineData("results/./deep/data.bin")]
    [InlineData("./summary.txt")]
    [InlineData("/summary.txt")]
    [InlineData("results//deep/data.bin")]
    public async Task OutputDownload_RefusesDotAndEmptySegmentsThatReachTheServer(string path)
    {
        var (runId, _) = await RunWithOutputsAsync();

        var context = await _factory.Server.SendAsync(c =>
        {
            c.Request.Method = "GET";
            c.Request.Path = $"/ga4gh/wes/v1/runs/{runId}/outputs/{path}";
        });

        var body = await new StreamReader(context.Response.Body).ReadToEndAsync();
        Assert.Equal(400, context.Response.StatusCode);
        JsonAssert.Error(body, 400);
    }

    [Fact]
    public async Task OutputEndpoints_Answer404ForAnUnknownRun()
    {
        using var list = await _client.GetAsync("/runs/no-such-run/outputs");
        using var file = await _client.GetAsync("/runs/no-such-run/outputs/a.txt");

        await JsonAssert.ErrorAsync(list, HttpStatusCode.NotFound);
        await JsonAssert.ErrorAsync(file, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TaskLog_IsServedOnlyFromInsideTheRunFolder()
    {
        var runId = await _client.SubmitAsync(new RunRequestBuilder());
        var store = _factory.Service<RunStore>();
        await store.TryClaimNextAsync("test-executor", TimeSpan.FromMinutes(5), CancellationToken.None);
        await store.UpsertTasksAsync(runId, "test-executor", [new RunTask { TaskId = "step/1", Name = "step" }, new RunTask { TaskId = "sneaky", Name = "sneaky" }], CancellationToken.None);
        var workspace = new Wes.Execution.RunWorkspace(_factory.RunsDir, runId);
        var log = Path.Combine(workspace.Root, "exe", "step.log");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        await File.WriteAllTextAsync(log, "step says hi\n");
        workspace.LinkTaskLog("step/1", Wes.Execution.TaskLogStream.Stderr, log);
        workspace.LinkTaskLog("sneaky", Wes.Execution.TaskLogStream.Stdout, Path.Combine(_outside, "secret.txt"));

        var tasks = (await _client.GetJsonAsync($"/runs/{runId}/tasks"))["task_logs"]!.AsArray();
        var step = tasks.Single(t => t!["id"]!.GetValue<string>() == "step/1")!;
        using var stderr = await _client.Http.GetAsync(new Uri(step["stderr"]!.GetValue<string>()).PathAndQuery);
        using var sneaky = await _client.GetAsync($"/runs/{runId}/tasks/sneaky/stdout");
        using var none = await _client.GetAsync($"/runs/{runId}/tasks/sneaky/stderr");
        using var unknown = await _client.GetAsync($"/runs/{runId}/tasks/nope/stderr");

        SpecContract.AssertMatches(step, "TaskLog");
        Assert.Null(step["stdout"]);
        Assert.Equal($"http://localhost/ga4gh/wes/v1/runs/{runId}/tasks/step%2F1/stderr", step["stderr"]!.GetValue<string>());
        Assert.Equal("step says hi\n", await stderr.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", stderr.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("not an output", await sneaky.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await JsonAssert.ErrorAsync(sneaky, HttpStatusCode.NotFound);
        await JsonAssert.ErrorAsync(none, HttpStatusCode.NotFound);
        await JsonAssert.ErrorAsync(unknown, HttpStatusCode.NotFound);
    }
}
