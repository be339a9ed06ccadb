using System.Net;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>The log endpoints serve only plain files of the run's own folder: a link planted in their place is not followed.</summary>
public sealed class LogConfinementTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 1);
    private readonly WesClient _client;
    private readonly string _secret = Path.Combine(Path.GetTempPath(), $"wes-secret-{Guid.NewGuid():N}.txt");

    public LogConfinementTests()
    {
        _client = _factory.CreateWesClient();
        File.WriteAllText(_secret, "root:secret-hash");
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
        File.Delete(_secret);
    }

    [Fact]
    public async Task LogReplacedByALink_IsNotServed()
    {
        var runId = await FinishedRunAsync();
        var stderr = Path.Combine(_factory.RunsDir, runId, "stderr.log");
        Assert.Contains("mock: running", await _client.Http.GetStringAsync(_client.Url($"/runs/{runId}/stderr")), StringComparison.Ordinal);
        File.Delete(stderr);
        File.CreateSymbolicLink(stderr, _secret);

        using var response = await _client.GetAsync($"/runs/{runId}/stderr");

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.NotFound);
        Assert.DoesNotContain("secret", error.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunFolderReplacedByALink_ServesNothingFromItsTarget()
    {
        var runId = await FinishedRunAsync();
        var elsewhere = TempDirectory.Create("wes-elsewhere");
        File.Copy(_secret, Path.Combine(elsewhere, "stdout.log"));
        var runDir = Path.Combine(_factory.RunsDir, runId);
        Directory.Move(runDir, runDir + ".moved");
        Directory.CreateSymbolicLink(runDir, elsewhere);

        using var response = await _client.GetAsync($"/runs/{runId}/stdout");

        Assert.DoesNotContain("secret", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await JsonAssert.ErrorAsync(response, HttpStatusCode.NotFound);
        TempDirectory.Delete(elsewhere);
    }

    [Fact]
    public async Task EarlierExecutionsThatDoNotExist_Are404()
    {
        var runId = await FinishedRunAsync();

        foreach (var attempt in new[] { 0, 1, 7 })
        {
            var error = await JsonAssert.ErrorAsync(await _client.GetAsync($"/runs/{runId}/attempts/{attempt}/stdout"), HttpStatusCode.NotFound);
            Assert.Contains("no such earlier execution", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PlainLog_IsServedWithRanges()
    {
        var runId = await FinishedRunAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, _client.Url($"/runs/{runId}/stderr"));
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 3);

        using var response = await _client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("mock", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
    }

    private async Task<string> FinishedRunAsync()
    {
        var runId = await _client.SubmitAsync(new RunRequestBuilder());
        Assert.Equal("COMPLETE", await _client.WaitForTerminalAsync(runId));
        return runId;
    }
}
