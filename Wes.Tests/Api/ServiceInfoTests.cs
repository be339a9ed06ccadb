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
        var reported = info["workflow_engine_versions"]!["cwltool"]!["workflow_engine_version"]!.AsArray().Single()!.GetValue<string>();
        Assert.Equal(await CwltoolVersionAsync(), reported);
        Assert.Equal(["v1.0", "v1.1", "v1.2"], info["workflow_type_versions"]!["CWL"]!["workflow_type_version"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Contains(info["default_workflow_engine_parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "parallel");
    }

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

    private static async Task<string> CwltoolVersionAsync()
    {
        var start = new ProcessStartInfo("cwltool", "--version") { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Trim().Split(' ')[^1];
    }
}
