using System.Text.Json.Nodes;
using Wes.Tests.Support;

namespace Wes.Tests.Cli;

/// <summary>The client against a real server running Mock runs with token authentication: paging, filters, failures.</summary>
public sealed class CliMockServerTests(MockCliServer server) : IClassFixture<MockCliServer>
{
    private Task<CliResult> WesAsync(params string[] args) =>
        CliHarness.RunAsync([.. args, "--url", server.Url, "--token", TestAuth.AliceToken]);

    [Fact]
    public async Task List_FollowsEveryPage_AndFiltersByTagStateAndLimit()
    {
        var batch = Guid.NewGuid().ToString("N");
        var ids = new List<string>();
        foreach (var outcome in new[] { "COMPLETE", "COMPLETE", "EXECUTOR_ERROR", "COMPLETE", "COMPLETE" })
        {
            var submitted = await WesAsync("submit", CliHarness.Example("hello/hello.cwl"), "--tag", "batch=" + batch, "--tag", "wes.mock.outcome=" + outcome);
            Assert.True(submitted.ExitCode == 0, submitted.ToString());
            ids.Add(submitted.Output.Trim());
        }

        var waits = new List<int>();
        foreach (var id in ids)
        {
            waits.Add((await WesAsync("wait", id, "--interval", "0.1")).ExitCode);
        }

        // The server's pages hold two runs, so five runs take three pages.
        var all = await WesAsync("list", "--tag", "batch=" + batch, "--json");
        var limited = await WesAsync("list", "--tag", "batch=" + batch, "--limit", "3");
        var failed = await WesAsync("list", "--tag", "batch=" + batch, "--state", "executor_error", "--json");

        Assert.Equal([0, 0, 1, 0, 0], waits);
        Assert.Equal(ids.AsEnumerable().Reverse(), RunIds(all));
        Assert.Equal(3, limited.Output.Split('\n').Count(line => line.Contains(batch, StringComparison.Ordinal)));
        Assert.Equal([ids[2]], RunIds(failed));
    }

    [Fact]
    public async Task AWrongToken_ExitsThreeWithTheServersMessageOnOneLine()
    {
        var result = await CliHarness.RunAsync("list", "--url", server.Url, "--token", "not-a-token");

        Assert.Equal(3, result.ExitCode);
        var line = Assert.Single(result.Error.TrimEnd().Split('\n'));
        Assert.Contains("failed with 401", line, StringComparison.Ordinal);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task AnUnreachableServer_ExitsThreeWithOneLine()
    {
        var url = $"http://127.0.0.1:{LocalHttpServer.FreePort()}/ga4gh/wes/v1";

        var result = await CliHarness.RunAsync("status", "some-run", "--url", url);

        Assert.Equal(3, result.ExitCode);
        var line = Assert.Single(result.Error.TrimEnd().Split('\n'));
        Assert.StartsWith($"wes: Cannot reach {url}/runs/some-run/status", line, StringComparison.Ordinal);
    }

    private static IEnumerable<string> RunIds(CliResult list)
    {
        Assert.True(list.ExitCode == 0, list.ToString());
        return JsonNode.Parse(list.Output)!["runs"]!.AsArray().Select(r => r!["run_id"]!.GetValue<string>());
    }
}
