using Microsoft.Extensions.DependencyInjection;
using System.Net;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>Workflow types and their spellings, the engine a request gets, and engine parameters by engine.</summary>
public sealed class EngineChoiceTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 0);
    private readonly WesClient _client;

    public EngineChoiceTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    private static RunRequestBuilder Smk(string type = "SMK") =>
        new RunRequestBuilder().WithoutAttachments().With("workflow_type", type).With("workflow_type_version", "1.0")
            .With("workflow_url", "Snakefile").With("workflow_params", "{}").WithAttachment("Snakefile", "rule all:\n    shell: 'true'\n");

    private async Task<string> EngineOfAsync(RunRequestBuilder request)
    {
        var runId = await _client.SubmitAsync(request);
        return (await _client.GetJsonAsync($"/runs/{runId}"))["run_log"]!["name"]!.GetValue<string>().Split(' ')[0];
    }

    [Theory]
    [InlineData("CWL", "cwltool")]
    [InlineData("cwl", "cwltool")]
    [InlineData("commonwl", "cwltool")]
    public async Task CwlWithoutAnEngine_RunsOnCwltool(string type, string engine)
    {
        Assert.Equal(engine, await EngineOfAsync(new RunRequestBuilder().With("workflow_type", type)));
    }

    [Theory]
    [InlineData("SMK")]
    [InlineData("smk")]
    [InlineData("Snakemake")]
    public async Task SnakemakeSpellings_RunOnSnakemake(string type)
    {
        Assert.Equal("snakemake", await EngineOfAsync(Smk(type)));
    }

    [Theory]
    [InlineData("NFL")]
    [InlineData("Nextflow")]
    public async Task NextflowSpellings_RunOnNextflow(string type)
    {
        var request = new RunRequestBuilder().WithoutAttachments().With("workflow_type", type).With("workflow_type_version", "DSL2")
            .With("workflow_url", "main.nf").WithAttachment("main.nf", "workflow { }");

        Assert.Equal("nextflow", await EngineOfAsync(request));
    }

    [Fact]
    public async Task Toil_IsChosenByName()
    {
        Assert.Equal("toil", await EngineOfAsync(new RunRequestBuilder().With("workflow_engine", "Toil")
            .With("workflow_engine_parameters", """{"toil:batchSystem": "slurm", "maxCores": 8, "defaultMemory": "4Gi"}""")));
    }

    [Fact]
    public async Task MissingTypeOnThisMachine_Is400NamingTheInstalledTypes()
    {
        // A type whose only engine is certainly absent, whatever this machine has installed.
        using var local = new WesApplicationFactory(provider: "Local", workers: 0,
            services: s => s.AddSingleton<Wes.Execution.Engines.IWorkflowEngine>(new FakeEngine("wes-absent", "wes-absent-program", "WESTEST")));
        using var client = local.CreateWesClient();

        using var response = await new RunRequestBuilder().With("workflow_type", "WESTEST").With("workflow_type_version", "v1.0").SendAsync(client);

        var error = (await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest))["msg"]!.GetValue<string>();
        Assert.StartsWith("workflow_type 'WESTEST' needs wes-absent, which is not installed on this server; available types: CWL", error, StringComparison.Ordinal);
        Assert.Equal(0, await client.CountRunsAsync());
    }

    public static TheoryData<RunRequestBuilder, string> BadEngineRequests() => new()
    {
        { new RunRequestBuilder().With("workflow_engine", "snakemake"), "workflow_engine 'snakemake' does not run CWL; available engines for CWL: cwltool, toil." },
        { Smk().With("workflow_type_version", "7"), "workflow_type_version '7' is not supported for SMK; supported: 1.0." },
        { Smk().With("workflow_engine_parameters", """{"toil:batchSystem": "slurm"}"""), "'toil:batchSystem' belongs to toil, but this run uses snakemake" },
        { Smk().With("workflow_engine_parameters", """{"parallel": "true"}"""), "'parallel' is not a parameter of snakemake; accepted: snakemake:cores" },
        { Smk().With("workflow_engine_parameters", """{"cores": "0"}"""), "'cores' must be between 1 and 1024; got '0'" },
        { Smk().With("workflow_engine_parameters", """{"cores": "two"}"""), "'cores' must be a whole number; got 'two'" },
        { Smk().With("workflow_engine_parameters", """{"cores": 2, "snakemake:cores": 3}"""), "are the same parameter" },
        { Smk().With("workflow_engine_parameters", """{"target": "--delete-all-output"}"""), "none starting with a dash" },
        { Smk().With("workflow_engine_parameters", """{"target": "all ../../etc/x"}"""), "none starting with a dash" },
        { Smk().With("workflow_engine_parameters", """{"target": "all; rm -rf /"}"""), "none starting with a dash" },
        { new RunRequestBuilder().With("workflow_engine", "toil").With("workflow_engine_parameters", """{"batchSystem": "my-cluster"}"""), "must be one of single_machine, slurm, kubernetes" },
        { new RunRequestBuilder().With("workflow_engine", "toil").With("workflow_engine_parameters", """{"maxMemory": "-1"}"""), "must be a size such as 64G" },
        { new RunRequestBuilder().With("workflow_engine", "toil").With("workflow_engine_parameters", """{"jobStore": "file:/tmp/x"}"""), "must be aws:<region>:<prefix>" },
    };

    [Theory]
    [MemberData(nameof(BadEngineRequests))]
    public async Task BadEngineChoice_Is400(RunRequestBuilder request, string expected)
    {
        using var response = await request.SendAsync(_client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await _client.CountRunsAsync());
    }

    [Fact]
    public async Task ServiceInfo_NamesEachParameterByItsEngine()
    {
        var parameters = (await _client.GetJsonAsync("/service-info"))["default_workflow_engine_parameters"]!.AsArray()
            .Select(p => p!["name"]!.GetValue<string>()).ToList();

        Assert.All(parameters, name => Assert.Matches("^(cwltool|toil|snakemake|nextflow):[A-Za-z_]+$", name));
        Assert.Contains("snakemake:cores", parameters);
        Assert.Contains("toil:batchSystem", parameters);
        Assert.Contains("nextflow:profile", parameters);
        Assert.Equal(parameters.Count, parameters.Distinct().Count());
    }
}
