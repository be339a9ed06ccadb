using System.Net;
using System.Text.Json.Nodes;
using Wes.Cli.Submission;
using Wes.Tests.Support;

namespace Wes.Tests.Cli;

/// <summary>
/// The client against recorded answers of WES 1.0/1.1 servers (missing fields, nulls, relative links, other shapes)
/// and its own parsing: usage errors, type inference, params files.
/// </summary>
public sealed class CliClientTests
{
    [Fact]
    public async Task Info_ReadsEngineVersionsAsStringsOrObjects()
    {
        var server = new RecordedServer().Answer("GET /ga4gh/wes/v1/service-info", """
            {"id": "org.example.wes", "name": "Other WES", "version": null,
             "workflow_type_versions": {"CWL": {"workflow_type_version": ["v1.0", "v1.2"]}, "WDL": ["1.0"]},
             "workflow_engine_versions": {"cwltool": "3.1.2", "toil": {"workflow_engine_version": ["6.0"]}, "miniwdl": null},
             "supported_wes_versions": ["1.0.0"], "system_state_counts": {"RUNNING": "2"}}
            """);

        var result = await server.RunAsync("info");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("cwltool    3.1.2", result.Output, StringComparison.Ordinal);
        Assert.Contains("toil       6.0", result.Output, StringComparison.Ordinal);
        Assert.Contains("CWL        v1.0, v1.2", result.Output, StringComparison.Ordinal);
        Assert.Contains("RUNNING 2", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_WithoutAStateSaysUnknown_AndJsonIsTheServersText()
    {
        var server = new RecordedServer().Answer("GET /ga4gh/wes/v1/runs/r1/status", """{"run_id": "r1"}""");

        Assert.Equal("r1 UNKNOWN", (await server.RunAsync("status", "r1")).Output.Trim());
        Assert.Equal("""{"run_id": "r1"}""", (await server.RunAsync("status", "r1", "--json")).Output.Trim());
    }

    [Fact]
    public async Task Logs_ResolvesRelativeLinksAgainstTheApiBase_AndReadsWes10TaskLogs()
    {
        var server = new RecordedServer()
            .Answer("GET /ga4gh/wes/v1/runs/r1", """
                {"run_id": "r1", "state": "COMPLETE", "request": null, "outputs": null,
                 "run_log": {"stdout": "runs/r1/stdout", "stderr": "/elsewhere/r1.err", "exit_code": null},
                 "task_logs": [{"name": "step1", "stdout": "https://logs.test/step1.out", "stderr": null}]}
                """)
            .Answer("GET /ga4gh/wes/v1/runs/r1/stdout", "engine said hello\n")
            .Answer("GET /elsewhere/r1.err", "engine complained\n")
            .Answer("GET https://logs.test/step1.out", "step one output\n");

        var result = await server.RunAsync("logs", "r1", "--token", "secret");

        Assert.True(result.ExitCode == 0, result.ToString());
        // The token goes to the WES server only, never to a host a link names.
        Assert.All(server.Requests, r => Assert.Equal(r.Request.Contains("logs.test", StringComparison.Ordinal) ? null : "Bearer secret", r.Authorization));
        Assert.Contains("==> run stdout <==\nengine said hello\n", result.Output, StringComparison.Ordinal);
        Assert.Contains("==> run stderr <==\nengine complained\n", result.Output, StringComparison.Ordinal);
        // The server has no tasks endpoint (WES 1.0): the RunLog's task_logs are used, the absolute link as it is.
        Assert.Contains("GET /ga4gh/wes/v1/runs/r1/tasks", server.Requests.Select(r => r.Request));
        Assert.Contains("==> task step1 stdout <==\nstep one output\n", result.Output, StringComparison.Ordinal);
        Assert.Contains("==> task step1 stderr <==\n(no log)", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_AcceptsA201AndSendsTheTypeReadFromTheFile()
    {
        var server = new RecordedServer().Answer("POST /ga4gh/wes/v1/runs", """{"run_id": "new-run"}""", HttpStatusCode.Created);

        var result = await server.RunAsync("submit", CliHarness.Example("hello/hello.cwl"), "-p", "message=hi", "-p", "count=3", "--tag", "project=demo");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("new-run", result.Output.Trim());
        var form = server.Requests.Single().Body;
        Assert.Contains("v1.0", form, StringComparison.Ordinal);
        Assert.Contains("""{"message":"hi","count":3}""", form, StringComparison.Ordinal);
        Assert.Contains("""{"project":"demo"}""", form, StringComparison.Ordinal);
        Assert.Contains("name=\"workflow_attachment\"; filename=\"hello.cwl\"", form, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_FollowsTokensAndToleratesMissingFields()
    {
        var server = new RecordedServer()
            .Answer("GET /ga4gh/wes/v1/runs", """{"runs": [{"run_id": "a", "state": "COMPLETE", "tags": null}], "next_page_token": "p2"}""")
            .Answer("GET /ga4gh/wes/v1/runs?page_token=p2", """{"runs": [{"run_id": "b", "state": "RUNNING", "tags": {"k": "v", "n": 7}}]}""");

        var all = await server.RunAsync("list");
        var tagged = await server.RunAsync("list", "--tag", "n=7", "--json");

        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Contains("a", all.Output, StringComparison.Ordinal);
        Assert.Contains("k=v, n=7", all.Output, StringComparison.Ordinal);
        Assert.Equal(["b"], JsonNode.Parse(tagged.Output)!["runs"]!.AsArray().Select(r => r!["run_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task OutputsDownload_RefusesAPathThatWouldLeaveTheFolder_AndWritesNothing()
    {
        var server = new RecordedServer()
            .Answer("GET /ga4gh/wes/v1/runs/r1/outputs", """
                {"run_id": "r1", "files": [{"path": "ok.txt", "url": "runs/r1/outputs/ok.txt"}, {"path": "../../escape.txt", "url": "x"}], "next_page_token": ""}
                """)
            .Answer("GET /ga4gh/wes/v1/runs/r1/outputs/ok.txt", "fine");
        var folder = TempDirectory.Create("wes-cli-refuse");
        try
        {
            var result = await server.RunAsync("outputs", "r1", "--download", Path.Combine(folder, "into"));

            Assert.Equal(3, result.ExitCode);
            Assert.Contains("Refused output path '../../escape.txt'", result.Error, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
        }
        finally
        {
            TempDirectory.Delete(folder);
        }
    }

    [Fact]
    public async Task AServerError_ExitsThreeWithItsMessageOnOneLine()
    {
        var server = new RecordedServer().Answer("POST /ga4gh/wes/v1/runs/r1/cancel", """{"msg": "Run 'r1' is\nnot yours.", "status_code": 403}""", HttpStatusCode.Forbidden);

        var result = await server.RunAsync("cancel", "r1");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("wes: POST http://wes.test/ga4gh/wes/v1/runs/r1/cancel failed with 403: Run 'r1' is not yours.", result.Error.TrimEnd());
    }

    [Theory]
    [InlineData("status")]
    [InlineData("frobnicate")]
    [InlineData("list", "--limit", "0")]
    [InlineData("submit", "wf.cwl", "--dir", ".", "--attach", "x")]
    [InlineData("logs", "r1", "--stream", "both")]
    [InlineData("logs", "r1", "--follow", "--json")]
    public async Task UsageErrors_ExitTwoWithOneLine(params string[] args)
    {
        var result = await CliHarness.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Error.TrimEnd().Split('\n'));
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task Submit_OfAMissingFileOrWithABadPair_IsAUsageError()
    {
        Assert.Equal(2, (await CliHarness.RunAsync("submit", "/no/such/workflow.cwl")).ExitCode);
        var badPair = await CliHarness.RunAsync("submit", CliHarness.Example("hello/hello.cwl"), "-p", "novalue");
        Assert.Equal(2, badPair.ExitCode);
        Assert.Contains("-p 'novalue' must be key=value", badPair.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wf.cwl", "#!/usr/bin/env cwl-runner\ncwlVersion: v1.1\nclass: Workflow", "CWL", "v1.1")]
    [InlineData("wf.cwl", """{"cwlVersion": "v1.2", "class": "Workflow"}""", "CWL", "v1.2")]
    [InlineData("Snakefile", "rule all:", "SMK", "1.0")]
    [InlineData("main.nf", "workflow {}", "NFL", "DSL2")]
    [InlineData("x.wdl", "version 1.1\nworkflow x {}", "WDL", "1.1")]
    [InlineData("x.wdl", "workflow x {}", "WDL", "draft-2")]
    [InlineData("https://example.org/flows/wf.cwl?ref=main", null, "CWL", null)]
    [InlineData("run.sh", "echo", null, null)]
    public void WorkflowType_IsInferredFromTheFile(string name, string? content, string? type, string? version) =>
        Assert.Equal((type, version), WorkflowTypes.Infer(name, content));

    [Fact]
    public void YamlParams_KeepPlainScalarTypesAndQuotedStrings()
    {
        var folder = TempDirectory.Create("wes-cli-yaml");
        try
        {
            var file = Path.Combine(folder, "params.yaml");
            File.WriteAllText(file, "n: 3\nratio: 0.5\nflag: true\nname: '007'\nnothing: ~\ninput:\n  class: File\n  path: data/a.txt\nlist: [1, two]\n");

            var result = WorkflowParams.Build(file, ["n=4"]);

            Assert.Equal("""{"n":4,"ratio":0.5,"flag":true,"name":"007","nothing":null,"input":{"class":"File","path":"data/a.txt"},"list":[1,"two"]}""", result.ToJsonString());
        }
        finally
        {
            TempDirectory.Delete(folder);
        }
    }
}
