using System.Globalization;
using System.Net;
using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>Real snakemake runs through the whole server: config from workflow_params, tasks per job, outputs, cancel.</summary>
public sealed class SnakemakeEndToEndTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(provider: "Local", workers: 2);
    private readonly WesClient _client;

    public SnakemakeEndToEndTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    private static RunRequestBuilder Snakefile(string snakefile, string config = "{}") =>
        new RunRequestBuilder().WithoutAttachments().With("workflow_type", "SMK").With("workflow_type_version", "1.0")
            .With("workflow_url", "Snakefile").With("workflow_params", config).WithAttachment("Snakefile", snakefile);

    [Fact]
    public async Task SnakemakeExample_CompletesWithItsTasksOutputsAndLogs()
    {
        var runId = await _client.SubmitAsync(RunRequestBuilder.ForExample("snakemake", "Snakefile", "1.0").With("workflow_type", "Snakemake"));

        Assert.Equal("COMPLETE", await _client.WaitForTerminalAsync(runId));

        var log = await _client.GetJsonAsync($"/runs/{runId}");
        SpecContract.AssertMatches(log, "RunLog");
        Assert.Equal("snakemake", log["run_log"]!["cmd"]![0]!.GetValue<string>().Split('/')[^1]);
        var summary = log["outputs"]!["results/summary.txt"]!;
        Assert.Equal("File", summary["class"]!.GetValue<string>());
        var onDisk = Path.Combine(_factory.RunsDir, runId, "outputs", "results", "summary.txt");
        Assert.Equal(onDisk, summary["path"]!.GetValue<string>());
        Assert.Equal("Words per sample\nfox 9\nhello 2\n", await File.ReadAllTextAsync(onDisk));

        var tasks = await _client.GetJsonAsync($"/runs/{runId}/tasks");
        SpecContract.AssertMatches(tasks, "TaskListResponse");
        var steps = tasks["task_logs"]!.AsArray().Select(t => t!).ToList();
        Assert.Equal(["all", "count", "count", "summary", "upper", "upper"], steps.Select(t => t["id"]!.GetValue<string>().Split('.')[0]).Order());
        Assert.All(steps, t => Assert.Equal(0, t["exit_code"]!.GetValue<int>()));
        Assert.All(steps, t => Assert.NotNull(t["start_time"]));
        Assert.All(steps, t => Assert.NotNull(t["end_time"]));
        var upper = steps.Single(t => t["name"]!.GetValue<string>() == "upper (sample=fox)");
        Assert.Equal(["bash", "-c"], upper["cmd"]!.AsArray().Take(2).Select(c => c!.GetValue<string>()));
        Assert.StartsWith("tr a-z A-Z < data/fox.txt", upper["cmd"]![2]!.GetValue<string>(), StringComparison.Ordinal);
        using var upperLog = await _client.Http.GetAsync(new Uri(upper["stderr"]!.GetValue<string>()).PathAndQuery);
        Assert.Equal("upper-cased fox\n", await upperLog.Content.ReadAsStringAsync());
        Assert.Null(upper["stdout"]);

        var files = await _client.GetJsonAsync($"/runs/{runId}/outputs");
        Assert.Equal(["results/summary.txt"], files["files"]!.AsArray().Select(f => f!["path"]!.GetValue<string>()));
        using var download = await _client.Http.GetAsync(new Uri(files["files"]![0]!["url"]!.GetValue<string>()).PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(onDisk), await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("text/plain", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal(new FileInfo(onDisk).Length, download.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task TargetAndCores_AreHandedToSnakemake()
    {
        var runId = await _client.SubmitAsync(RunRequestBuilder.ForExample("snakemake", "Snakefile", "1.0").With("workflow_type", "SMK")
            .With("workflow_engine_parameters", """{"snakemake:target": "results/fox.count.txt", "--cores": 2}"""));

        Assert.Equal("COMPLETE", await _client.WaitForTerminalAsync(runId));

        var log = await _client.GetJsonAsync($"/runs/{runId}");
        var cmd = log["run_log"]!["cmd"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.Equal("2", cmd[cmd.IndexOf("--cores") + 1]);
        Assert.Equal("results/fox.count.txt", cmd[^1]);
        Assert.Equal(["results/fox.count.txt"], log["outputs"]!.AsObject().Select(o => o.Key));
        Assert.Equal("9", (await File.ReadAllTextAsync(Path.Combine(_factory.RunsDir, runId, "outputs", "results", "fox.count.txt"))).Trim());
    }

    [Fact]
    public async Task FailingRule_EndsExecutorErrorWithTheJobsExitCode()
    {
        const string snakefile = "rule broken:\n    output: \"never.txt\"\n    shell: \"echo about to fail >&2; exit 3\"\n";

        var runId = await _client.SubmitAsync(Snakefile(snakefile));

        Assert.Equal("EXECUTOR_ERROR", await _client.WaitForTerminalAsync(runId));
        var log = await _client.GetJsonAsync($"/runs/{runId}");
        SpecContract.AssertMatches(log, "RunLog");
        Assert.Equal(1, log["run_log"]!["exit_code"]!.GetValue<int>());
        var task = (await _client.GetJsonAsync($"/runs/{runId}/tasks"))["task_logs"]!.AsArray().Single()!;
        Assert.Equal("broken.0", task["id"]!.GetValue<string>());
        Assert.Equal(3, task["exit_code"]!.GetValue<int>());
        Assert.Contains("failed", task["system_logs"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        using var stderr = await _client.Http.GetAsync(_client.Url($"/runs/{runId}/stderr"));
        Assert.Contains("about to fail", await stderr.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancelRunningJob_LeavesNoProcessBehind()
    {
        var seconds = Random.Shared.Next(100_000, 900_000).ToString(CultureInfo.InvariantCulture);
        const string snakefile = "rule nap:\n    output: \"rested.txt\"\n    shell: \"sleep {config[seconds]} && touch {output}\"\n";
        var runId = await _client.SubmitAsync(Snakefile(snakefile, $$"""{"seconds": {{seconds}}}"""));
        Assert.Equal("RUNNING", await _client.WaitForAsync(runId, "RUNNING"));
        await ProcessTable.WaitUntilAsync(() => ProcessTable.FindByCommandLine("sleep", seconds).Count == 1, TimeSpan.FromSeconds(30), "the job sleeps");
        var enginePid = (await _factory.Service<RunStore>().GetAsync(runId, CancellationToken.None))!.EnginePid!.Value;

        (await _client.Http.PostAsync(_client.Url($"/runs/{runId}/cancel"), null)).EnsureSuccessStatusCode();

        Assert.Equal("CANCELED", await _client.WaitForTerminalAsync(runId, TimeSpan.FromSeconds(20)));
        Assert.Empty(ProcessTable.FindByCommandLine("sleep", seconds));
        Assert.Empty(ProcessTable.InGroup(enginePid));
        var task = (await _client.GetJsonAsync($"/runs/{runId}/tasks"))["task_logs"]!.AsArray().Single()!;
        Assert.Equal("nap.0", task["id"]!.GetValue<string>());
        // Snakemake itself reports the job it stopped as failed, so the task is closed either way.
        Assert.NotNull(task["end_time"]);
        Assert.NotEqual(0, task["exit_code"]?.GetValue<int>());
        Assert.NotEmpty(task["system_logs"]!.AsArray());
    }
}
