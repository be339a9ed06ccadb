using System.Net;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>
/// Schema-salad directives ($include, $import, $base, ...) in workflow_params would make cwltool read files that the
/// allowed-roots check never sees; every '$' key is refused for CWL runs, wherever it is, and nothing is stored.
/// </summary>
public sealed class CwlDirectiveTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 0);
    private readonly WesClient _client;

    public CwlDirectiveTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    public static TheoryData<string, string> Directives() => new()
    {
        { """{"message": {"$include": "/etc/shadow"}}""", "workflow_params.message.$include" },
        { """{"$import": "/srv/data/inputs.json"}""", "workflow_params.$import" },
        { """{"message": "hi", "more": [1, {"deep": [{"$import": "inputs.json"}]}]}""", "workflow_params.more[1].deep[0].$import" },
        { """{"files": [{"class": "File", "location": "a.txt", "secondaryFiles": [{"$include": "/etc/passwd"}]}]}""", "workflow_params.files[0].secondaryFiles[0].$include" },
        { """{"$base": "file:///etc/", "f": {"class": "File", "location": "shadow"}}""", "workflow_params.$base" },
        { """{"$mixin": "/etc/passwd"}""", "workflow_params.$mixin" },
        { """{"$schemas": ["http://example.com/o.rdf"]}""", "workflow_params.$schemas" },
        { """{"$namespaces": {"ex": "file:///etc/"}, "f": {"class": "File", "location": "ex:shadow"}}""", "workflow_params.$namespaces" },
        { """{"message": {"\u0024include": "/etc/shadow"}}""", "workflow_params.message.$include" },
    };

    [Theory]
    [MemberData(nameof(Directives))]
    public async Task DirectiveKey_IsRefusedWithItsPath_AndNothingIsStored(string workflowParams, string path)
    {
        using var response = await new RunRequestBuilder().With("workflow_params", workflowParams).SendAsync(_client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains($"{path}: keys starting with '$'", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await _client.CountRunsAsync());
        Assert.Empty(Directory.Exists(_factory.RunsDir) ? Directory.GetFileSystemEntries(_factory.RunsDir) : []);
    }

    [Fact]
    public async Task DirectiveKey_InAJsonBody_IsRefused()
    {
        using var response = await new RunRequestBuilder().WithoutAttachments().With("workflow_url", "https://8.8.8.8/hello.cwl")
            .With("workflow_params", """{"message": {"$include": "/etc/shadow"}}""").SendJsonAsync(_client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("workflow_params.message.$include", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await _client.CountRunsAsync());
    }

    [Fact]
    public async Task DollarInAValue_IsNotADirective()
    {
        await _client.SubmitAsync(new RunRequestBuilder().With("workflow_params", """{"message": "$include costs $5"}"""));
    }

    [Fact]
    public async Task DollarKey_InASnakemakeConfig_IsAccepted()
    {
        // Snakemake reads its config file as plain data: a '$' key is only a name there.
        await _client.SubmitAsync(new RunRequestBuilder().WithoutAttachments().With("workflow_type", "SMK").With("workflow_type_version", "1.0")
            .With("workflow_url", "Snakefile").WithAttachment("Snakefile", "rule all:\n    shell: 'true'\n")
            .With("workflow_params", """{"$include": "not a directive here"}"""));
    }
}
