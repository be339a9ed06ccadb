using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>/health/live and /health/ready: answered without a token, readiness names each check and fails with 503.</summary>
public sealed class HealthTests
{
    [Fact]
    public async Task Ready_WithAuthOn_AnswersWithoutAToken_AndNamesEveryCheckHealthy()
    {
        using var factory = new WesApplicationFactory(settings: TestAuth.TokenSettings());
        using var http = factory.CreateClient();

        using var live = await http.GetAsync("/health/live");
        var ready = await ReadyWhenHealthyAsync(http);

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("Healthy", ready["status"]!.GetValue<string>());
        Assert.Equal(["database", "disk", "engines", "executor"], ready["checks"]!.AsObject().Select(c => c.Key).Order());
        Assert.Contains("schema up to date", ready["checks"]!["database"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("2 worker(s)", ready["checks"]!["executor"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        // The WES API itself still wants the token.
        using var runs = await http.GetAsync("/ga4gh/wes/v1/runs");
        Assert.Equal(HttpStatusCode.Unauthorized, runs.StatusCode);
    }

    [Fact]
    public async Task Ready_WhenMigrationsAreNotApplied_Is503AndSaysToRunMigrate_WhileLiveIs200()
    {
        using var factory = new WesApplicationFactory(workers: 0, settings: new Dictionary<string, string?> { ["Wes:MigrateOnStartup"] = "false" });
        using var http = factory.CreateClient();

        using var live = await http.GetAsync("/health/live");
        using var ready = await http.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.Equal("Unhealthy", body["checks"]!["database"]!["status"]!.GetValue<string>());
        Assert.Contains("Wes.Host migrate", body["checks"]!["database"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("Healthy", body["checks"]!["executor"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Ready_WhenTheDatabaseCannotBeOpened_Is503AndNamesNoPath()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var http = factory.CreateClient();
        await ReadyWhenHealthyAsync(http);
        var database = Path.Combine(factory.DataDir, "wes.db");

        // A folder where the database file was: nothing can open it any more.
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(factory.DataDir, "wes.db*"))
        {
            File.Delete(file);
        }

        Directory.CreateDirectory(database);
        using var ready = await http.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var text = await ready.Content.ReadAsStringAsync();
        var check = JsonNode.Parse(text)!["checks"]!["database"]!;
        Assert.Equal("Unhealthy", check["status"]!.GetValue<string>());
        Assert.Contains("cannot be reached", check["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(factory.DataDir, text, StringComparison.Ordinal);
    }

    /// <summary>Readiness once the executor pool has beaten (it starts after the host does).</summary>
    private static async Task<JsonNode> ReadyWhenHealthyAsync(HttpClient http)
    {
        JsonNode? body = null;
        await ProcessTable.WaitUntilAsync(async () =>
        {
            using var ready = await http.GetAsync("/health/ready");
            body = JsonNode.Parse(await ready.Content.ReadAsStringAsync());
            return ready.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30), "readiness");
        return body!;
    }
}
