using System.Text.Json.Nodes;
using Wes.Tests.Support;

namespace Wes.Tests.Cli;

/// <summary>The client against a real server running real cwltool workflows.</summary>
public sealed class CliEndToEndTests(LocalCliServer server) : IClassFixture<LocalCliServer>, IDisposable
{
    /// <summary>A tool whose one output is a folder with a subfolder, so downloads must rebuild both.</summary>
    private const string ReportTool = """
        cwlVersion: v1.2
        class: CommandLineTool
        baseCommand: [sh, -c, 'mkdir -p report/parts && echo one > report/parts/a.txt && echo summary > report/index.txt']
        inputs: []
        outputs:
          report: {type: Directory, outputBinding: {glob: report}}
        """;

    private readonly string _dir = TempDirectory.Create("wes-cli-e2e");

    public void Dispose() => TempDirectory.Delete(_dir);

    private Task<CliResult> WesAsync(params string[] args) => CliHarness.RunAsync([.. args, "--url", server.Url]);

    [Fact]
    public async Task SubmitWithWait_RunsThePipelineFromItsFolder_AndTheRunCanBeReadBack()
    {
        var submitted = await WesAsync("submit", CliHarness.Example("pipeline/workflow.cwl"), "--dir", CliHarness.Example("pipeline"),
            "--params", CliHarness.Example("pipeline/params.json"), "--tag", "project=cli", "--wait", "--interval", "0.2");

        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var lines = submitted.Output.Trim().Split('\n');
        var runId = lines[0].Trim();
        Assert.Matches(@"^\d\d:\d\d:\d\d COMPLETE$", lines[^1].Trim());

        var outputs = await WesAsync("outputs", runId, "--json");
        var files = JsonNode.Parse(outputs.Output)!["files"]!.AsArray().Select(f => f!["path"]!.GetValue<string>()).ToList();
        Assert.Equal(2, files.Count);
        var get = await WesAsync("get", runId);
        Assert.Contains("State:      COMPLETE", get.Output, StringComparison.Ordinal);
        Assert.Contains("Exit code:  0", get.Output, StringComparison.Ordinal);
        var logs = await WesAsync("logs", runId);
        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Contains("==> run stdout <==", logs.Output, StringComparison.Ordinal);
        Assert.Contains("\"count\"", logs.Output, StringComparison.Ordinal);
        Assert.Contains("==> task shout stderr <==", logs.Output, StringComparison.Ordinal);
        var entries = JsonNode.Parse((await WesAsync("logs", runId, "--json")).Output)!;
        Assert.EndsWith($"/runs/{runId}/stdout", entries["run_log"]!["stdout"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["shout", "count"], entries["task_logs"]!.AsArray().Select(t => t!["id"]!.GetValue<string>()));
        var status = JsonNode.Parse((await WesAsync("status", runId, "--json")).Output)!;
        Assert.Equal("COMPLETE", status["state"]!.GetValue<string>());
        var listed = await WesAsync("list", "--tag", "project=cli", "--state", "COMPLETE");
        Assert.Contains(runId, listed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitWithWait_OfAFailingWorkflow_ExitsOne()
    {
        var result = await WesAsync("submit", CliHarness.Example("fail/fail.cwl"), "--wait", "--interval", "0.2");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Matches(@"\d\d:\d\d:\d\d EXECUTOR_ERROR$", result.Output.Trim());
    }

    [Fact]
    public async Task TheRealEntryPointSubmits_ThenLogsFollowTheRun_AndDownloadsKeepTheOutputFolders()
    {
        var workflow = Path.Combine(_dir, "report.cwl");
        await File.WriteAllTextAsync(workflow, ReportTool);

        var submitted = await CliHarness.RunProcessAsync("submit", workflow, "--url", server.Url);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var runId = submitted.Output.Trim();

        var followed = await WesAsync("logs", runId, "--follow", "--interval", "0.2");
        Assert.True(followed.ExitCode == 0, followed.ToString());
        // The engine's stdout is the outputs object, written as the run ends.
        Assert.Contains("\"report\"", followed.Output, StringComparison.Ordinal);
        Assert.Contains("[job report.cwl] completed success", followed.Error, StringComparison.Ordinal);

        var into = Path.Combine(_dir, "downloaded");
        var downloaded = await WesAsync("outputs", runId, "--download", into);
        Assert.True(downloaded.ExitCode == 0, downloaded.ToString());
        Assert.Equal("one", (await File.ReadAllTextAsync(Path.Combine(into, "report", "parts", "a.txt"))).Trim());
        Assert.Equal("summary", (await File.ReadAllTextAsync(Path.Combine(into, "report", "index.txt"))).Trim());
    }
}
