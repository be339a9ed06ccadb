using System.Diagnostics;
using System.Net;
using Wes.Execution;
using Wes.Persistence;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>
/// What a workflow can plant in its run directory to attack the file endpoints: FIFOs (whose open() blocks a thread
/// until someone writes), hard links to files the server can read, and an outputs folder swapped for a link.
/// </summary>
public sealed class HostileRunFilesTests : IDisposable
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(30);
    private readonly WesApplicationFactory _factory = new(workers: 0);
    private readonly WesClient _client;
    private readonly string _outside;
    private readonly List<string> _fifos = [];

    public HostileRunFilesTests()
    {
        _client = _factory.CreateWesClient();
        _outside = TempDirectory.Create("wes-outside");
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "not an output");
    }

    public void Dispose()
    {
        // Opening a FIFO for reading and writing never blocks and lets any reader stuck in open() go on.
        foreach (var fifo in _fifos.Where(File.Exists))
        {
            new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite).Dispose();
        }

        _client.Dispose();
        _factory.Dispose();
        TempDirectory.Delete(_outside);
    }

    private string MakeFifo(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var mkfifo = Process.Start("mkfifo", [path]))
        {
            mkfifo.WaitForExit();
        }

        _fifos.Add(path);
        return path;
    }

    private static void HardLink(string target, string link)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        using var ln = Process.Start("ln", [target, link]);
        ln.WaitForExit();
        Assert.Equal(0, ln.ExitCode);
    }

    private async Task<(string RunId, RunWorkspace Workspace)> RunAsync()
    {
        var runId = await _client.SubmitAsync(new RunRequestBuilder());
        var workspace = new RunWorkspace(_factory.RunsDir, runId);
        Directory.CreateDirectory(workspace.OutputsDir);
        await File.WriteAllTextAsync(Path.Combine(workspace.OutputsDir, "kept.txt"), "kept");
        return (runId, workspace);
    }

    /// <summary>Records a task of the run and returns a path inside the run folder for its log's target.</summary>
    private async Task<string> TaskLogTargetAsync(string runId, RunWorkspace workspace, string taskId)
    {
        var store = _factory.Service<RunStore>();
        await store.TryClaimNextAsync("test-executor", TimeSpan.FromMinutes(5), CancellationToken.None);
        await store.UpsertTasksAsync(runId, "test-executor", [new RunTask { TaskId = taskId, Name = taskId }], CancellationToken.None);
        return Path.Combine(workspace.Root, "exe", taskId + ".out");
    }

    /// <summary>Sends <paramref name="count"/> requests at once; each must answer a 404 error before the deadline.</summary>
    private async Task AllAnswer404Async(string relative, int count, string message)
    {
        var requests = Enumerable.Range(0, count).Select(_ => _client.GetAsync(relative)).ToList();
        var responses = await Task.WhenAll(requests).WaitAsync(Prompt);
        foreach (var response in responses)
        {
            using (response)
            {
                var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.NotFound);
                Assert.Contains(message, error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
            }
        }
    }

    private async Task ServiceInfoAnswersAsync()
    {
        using var info = await _client.GetAsync("/service-info").WaitAsync(Prompt);
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
    }

    [Fact]
    public async Task FifoOutput_AnswersManyConcurrentRequestsWith404AndTheServerKeepsAnswering()
    {
        var (runId, workspace) = await RunAsync();
        MakeFifo(Path.Combine(workspace.OutputsDir, "results", "fifo"));
        File.CreateSymbolicLink(Path.Combine(workspace.OutputsDir, "link-to-fifo"), Path.Combine(workspace.OutputsDir, "results", "fifo"));

        await AllAnswer404Async($"/runs/{runId}/outputs/results/fifo", 200, "is not a regular file");
        await AllAnswer404Async($"/runs/{runId}/outputs/link-to-fifo", 20, "is not a regular file");
        var list = await _client.GetJsonAsync($"/runs/{runId}/outputs").WaitAsync(Prompt);

        await ServiceInfoAnswersAsync();
        Assert.Equal(["kept.txt"], list["files"]!.AsArray().Select(f => f!["path"]!.GetValue<string>()));
    }

    [Fact]
    public async Task FifoRunLog_AnswersManyConcurrentRequestsWith404AndTheServerKeepsAnswering()
    {
        var (runId, workspace) = await RunAsync();
        MakeFifo(workspace.StdoutPath);

        await AllAnswer404Async($"/runs/{runId}/stdout", 100, "is not a regular file");

        await ServiceInfoAnswersAsync();
    }

    [Fact]
    public async Task FifoTaskLog_AnswersManyConcurrentRequestsWith404AndTheServerKeepsAnswering()
    {
        var (runId, workspace) = await RunAsync();
        var target = MakeFifo(await TaskLogTargetAsync(runId, workspace, "piped"));
        workspace.LinkTaskLog("piped", TaskLogStream.Stderr, target);
        // The link itself may be replaced by a FIFO too.
        MakeFifo(workspace.TaskLogPath("piped", TaskLogStream.Stdout));

        await AllAnswer404Async($"/runs/{runId}/tasks/piped/stderr", 100, "is not a regular file");
        await AllAnswer404Async($"/runs/{runId}/tasks/piped/stdout", 100, "is not a regular file");

        await ServiceInfoAnswersAsync();
    }

    [Fact]
    public async Task HardLinkedOutput_IsNeitherListedNorServed()
    {
        var (runId, workspace) = await RunAsync();
        HardLink(Path.Combine(_outside, "secret.txt"), Path.Combine(workspace.OutputsDir, "stolen", "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(workspace.OutputsDir, "link-to-stolen"), Path.Combine(workspace.OutputsDir, "stolen", "secret.txt"));

        var list = await _client.GetJsonAsync($"/runs/{runId}/outputs");
        using var direct = await _client.GetAsync($"/runs/{runId}/outputs/stolen/secret.txt");
        using var linked = await _client.GetAsync($"/runs/{runId}/outputs/link-to-stolen");

        Assert.Equal(["kept.txt"], list["files"]!.AsArray().Select(f => f!["path"]!.GetValue<string>()));
        foreach (var response in new[] { direct, linked })
        {
            var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.NotFound);
            Assert.Contains("has other hard links and is not served", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task HardLinkedLogs_AreNotServed()
    {
        var (runId, workspace) = await RunAsync();
        HardLink(Path.Combine(_outside, "secret.txt"), workspace.StderrPath);
        var target = await TaskLogTargetAsync(runId, workspace, "linked");
        HardLink(Path.Combine(_outside, "secret.txt"), target);
        workspace.LinkTaskLog("linked", TaskLogStream.Stdout, target);

        using var runLog = await _client.GetAsync($"/runs/{runId}/stderr");
        using var taskLog = await _client.GetAsync($"/runs/{runId}/tasks/linked/stdout");

        foreach (var response in new[] { runLog, taskLog })
        {
            var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.NotFound);
            Assert.Contains("has other hard links", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OutputsFolderReplacedByALink_ServesAndListsNothingBehindIt()
    {
        var (runId, workspace) = await RunAsync();
        Directory.Delete(workspace.OutputsDir, recursive: true);
        Directory.CreateSymbolicLink(workspace.OutputsDir, _outside);

        var list = await _client.GetJsonAsync($"/runs/{runId}/outputs");
        using var secret = await _client.GetAsync($"/runs/{runId}/outputs/secret.txt");

        Assert.Empty(list["files"]!.AsArray());
        Assert.DoesNotContain("not an output", await secret.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await JsonAssert.ErrorAsync(secret, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task RegularLogsAndOutputs_AreStillServedWithLengthAndRanges()
    {
        var (runId, workspace) = await RunAsync();
        await File.WriteAllTextAsync(workspace.StdoutPath, "0123456789");
        var target = await TaskLogTargetAsync(runId, workspace, "plain");
        await File.WriteAllTextAsync(target, "task says hi");
        workspace.LinkTaskLog("plain", TaskLogStream.Stdout, target);

        using var part = new HttpRequestMessage(HttpMethod.Get, _client.Url($"/runs/{runId}/stdout"));
        part.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(2, 4);
        using var range = await _client.Http.SendAsync(part);
        using var task = await _client.GetAsync($"/runs/{runId}/tasks/plain/stdout");
        using var output = await _client.GetAsync($"/runs/{runId}/outputs/kept.txt");

        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal("234", await range.Content.ReadAsStringAsync());
        Assert.Equal("task says hi", await task.Content.ReadAsStringAsync());
        Assert.Equal(12, task.Content.Headers.ContentLength);
        Assert.Equal("kept", await output.Content.ReadAsStringAsync());
        Assert.Equal(4, output.Content.Headers.ContentLength);
        Assert.Equal("kept.txt", output.Content.Headers.ContentDisposition?.FileName);
        Assert.NotNull(output.Content.Headers.LastModified);
    }
}
