using System.Net;
using System.Text.Json.Nodes;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>
/// A checked engine parameter accepts its whole value or nothing: a trailing newline, which a pattern ending in $
/// lets through, and a ".." hidden on a later line of a multi-line value are refused before anything is stored.
/// </summary>
public sealed class EngineParameterValueTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 0);
    private readonly WesClient _client;

    public EngineParameterValueTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    public static TheoryData<string, string, string> NewlineValues() => new()
    {
        { "cwltool", "parallel", "true\n" },
        { "cwltool", "strict", "false\n" },
        { "cwltool", "on_error", "stop\n" },
        { "toil", "maxMemory", "64G\n" },
        { "toil", "defaultDisk", "10\nG" },
        { "toil", "jobStore", "aws:us-east-1:runs\n" },
        { "toil", "maxCores", "8\n" },
        { "snakemake", "target", "all\n" },
        { "snakemake", "target", "all\nresults/a.txt\nresults/../../../etc/x" },
        { "snakemake", "keep_going", "true\n" },
        { "nextflow", "profile", "docker\n" },
    };

    [Theory]
    [MemberData(nameof(NewlineValues))]
    public async Task ValueWithANewlineWhereItsCheckEnds_Is400(string engine, string parameter, string value)
    {
        var parameters = new JsonObject { [parameter] = value }.ToJsonString();

        using var response = await RequestFor(engine).With("workflow_engine_parameters", parameters).SendAsync(_client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains($"workflow_engine_parameters: '{parameter}' ", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await _client.CountRunsAsync());
    }

    [Theory]
    [InlineData("cwltool", "parallel", "True")]
    [InlineData("toil", "maxMemory", "64 Gi")]
    [InlineData("snakemake", "target", "all results/a.txt\nresults/b.txt")]
    [InlineData("nextflow", "profile", "docker,test")]
    public async Task WholeValidValues_AreAccepted(string engine, string parameter, string value)
    {
        var parameters = new JsonObject { [parameter] = value }.ToJsonString();

        await _client.SubmitAsync(RequestFor(engine).With("workflow_engine_parameters", parameters));
    }

    private static RunRequestBuilder RequestFor(string engine) => engine switch
    {
        "snakemake" => new RunRequestBuilder().WithoutAttachments().With("workflow_type", "SMK").With("workflow_type_version", "1.0")
            .With("workflow_url", "Snakefile").With("workflow_params", "{}").WithAttachment("Snakefile", "rule all:\n    shell: 'true'\n"),
        "nextflow" => new RunRequestBuilder().WithoutAttachments().With("workflow_type", "NFL").With("workflow_type_version", "DSL2")
            .With("workflow_url", "main.nf").With("workflow_params", "{}").WithAttachment("main.nf", "workflow { }"),
        _ => new RunRequestBuilder().With("workflow_engine", engine),
    };
}
