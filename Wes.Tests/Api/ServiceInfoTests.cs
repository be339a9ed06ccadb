using System.Diagnostics;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

public sealed class ServiceInfoTests
{
    [Fact]
    public async Task ServiceInfo_MatchesTheSpecAndReportsTheInstalledCwltool()
    {
        using var factory = new WesApplicationFactory(provider: "Local", workers: 0);
        using var client = factory.CreateWesClient();

        var info = await client.GetJsonAsync("/service-info");

        SpecContract.AssertMatches(info, "ServiceInfo");
        Assert.Equal("org.ga4gh", info["type"]!["group"]!.GetValue<string>());
        Assert.Equal("wes", info["type"]!["artifact"]!.GetValue<string>());
        Assert.Equal("1.1.0", info["type"]!["version"]!.GetValue<string>());
        Assert.Contains("1.1.0", info["supported_wes_versions"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(await VersionAsync("cwltool"), EngineVersion(info, "cwltool"));
        Assert.Equal(await VersionAsync("toil-cwl-runner"), EngineVersion(info, "toil"));
        Assert.Equal(await VersionAsync("snakemake"), EngineVersion(info, "snakemake"));
        Assert.Equal(["v1.0", "v1.1", "v1.2"], info["workflow_type_versions"]!["CWL"]!["workflow_type_version"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["1.0"], info["workflow_type_versions"]!["SMK"]!["workflow_type_version"]!.AsArray().Select(v => v!.GetValue<string>()));
        var parameters = info["default_workflow_engine_parameters"]!.AsArray().ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!);
        Assert.Equal("boolean", parameters["cwltool:parallel"]["type"]!.GetValue<string>());
        Assert.Equal("1", parameters["snakemake:cores"]["default_value"]!.GetValue<string>());
        Assert.Equal("single_machine", parameters["toil:batchSystem"]["default_value"]!.GetValue<string>());
    }

    [Fact]
    public async Task ServiceInfo_ListsNextflowOnlyWhereItIsInstalled()
    {
        using var factory = new WesApplicationFactory(provider: "Local", workers: 0);
        using var client = factory.CreateWesClient();

        var info = await client.GetJsonAsync("/service-info");

        var installed = Wes.Execution.Engines.EngineCatalog.FindOnPath("nextflow") is not null;
        Assert.Equal(installed, info["workflow_type_versions"]!.AsObject().ContainsKey("NFL"));
        Assert.Equal(installed, info["workflow_engine_versions"]!.AsObject().ContainsKey("nextflow"));
        Assert.Equal(installed, info["default_workflow_engine_parameters"]!.AsArray().Any(p => p!["name"]!.GetValue<string>().StartsWith("nextflow:", StringComparison.Ordinal)));
        Assert.Equal(!installed, info["tags"]!["missing_engines"]!.GetValue<string>().Split(',').Contains("nextflow"));
    }

    private static string EngineVersion(System.Text.Json.Nodes.JsonNode info, string engine) =>
        info["workflow_engine_versions"]![engine]!["workflow_engine_version"]!.AsArray().Single()!.GetValue<string>();

    [Fact]
    public async Task ServiceInfo_CountsRunsInEveryState()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var client = factory.CreateWesClient();
        var queued = await client.SubmitAsync(new RunRequestBuilder());
        await client.SubmitAsync(new RunRequestBuilder());
        (await client.Http.PostAsync(client.Url($"/runs/{queued}/cancel"), null)).EnsureSuccessStatusCode();

        var counts = (await client.GetJsonAsync("/service-info"))["system_state_counts"]!.AsObject();

        Assert.Equal(SpecContract.StateNames().Order(), counts.Select(c => c.Key).Order());
        Assert.Equal(1, counts["QUEUED"]!.GetValue<long>());
        Assert.Equal(1, counts["CANCELED"]!.GetValue<long>());
        Assert.Equal(2, counts.Sum(c => c.Value!.GetValue<long>()));
    }

    [Fact]
    public async Task BothBasePaths_AnswerTheSameOperations()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var spec = factory.CreateWesClient("/ga4gh/wes/v1");
        using var ours = factory.CreateWesClient("/api/ga4gh/wes/v1");
        var runId = await ours.SubmitAsync(new RunRequestBuilder());

        Assert.Equal("QUEUED", await spec.StateAsync(runId));
        Assert.Equal(
            (await spec.GetJsonAsync("/service-info"))["system_state_counts"]!.ToJsonString(),
            (await ours.GetJsonAsync("/service-info"))["system_state_counts"]!.ToJsonString());
        var log = await ours.GetJsonAsync($"/runs/{runId}");
        Assert.StartsWith("http://localhost/api/ga4gh/wes/v1/runs/", log["task_logs_url"]!.GetValue<string>());
    }

    private static async Task<string> VersionAsync(string program)
    {
        var start = new ProcessStartInfo(program, "--version") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await error;
        await process.WaitForExitAsync();
        return output.Trim().Split(' ')[^1];
    }
}
