using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Wes.Bench.Baseline;

namespace Wes.Bench.Scenarios;

/// <summary>
/// The read endpoints on a large database: --runs finished runs are seeded through the server's own store before it
/// starts, then each read is loaded for --seconds and compared with a bare JSON GET measured in the same run.
/// Authentication is on (static tokens), so listing one owner's runs takes the owner-filtered path.
/// </summary>
internal sealed class ScaleScenario(BenchArguments arguments, string serverDll)
{
    private const int WalkPageSize = 500;
    private const string AdminUser = "bench-admin";

    public async Task<IReadOnlyList<string>> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        await using var database = arguments.Postgres is null ? null : await ScratchDatabase.CreateAsync(arguments.Postgres, cancellationToken);
        var dataDir = Directory.CreateTempSubdirectory("wes-bench-");
        try
        {
            return await RunOnAsync(output, dataDir.FullName, database, cancellationToken);
        }
        finally
        {
            // The seeding connections are pooled in this process; they would keep the deleted file open.
            SqliteConnection.ClearAllPools();
            dataDir.Delete(recursive: true);
        }
    }

    private async Task<IReadOnlyList<string>> RunOnAsync(
        TextWriter output, string dataDir, ScratchDatabase? database, CancellationToken cancellationToken)
    {
        await Console.Error.WriteLineAsync($"Seeding {arguments.Runs} runs into {(database is null ? "SQLite" : database.Name)} ...");
        SeedResult seed;
        using (var bench = await BenchStore.OpenAsync(dataDir, database?.ConnectionString, migrate: true, cancellationToken))
        {
            seed = await new RunSeeder(bench.Store).SeedAsync(arguments.Runs, cancellationToken);
        }

        SqliteConnection.ClearAllPools();
        if (database is not null)
        {
            // Autovacuum would analyze the new rows at a moment of its choosing; analyzing now makes every run plan alike.
            await database.AnalyzeAsync(cancellationToken);
        }

        var adminToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var ownerToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var settings = new Dictionary<string, string>
        {
            ["WES_DATA_DIR"] = dataDir,
            ["DEFAULT_WES_PROVIDER"] = "Mock",
            ["WES_AUTH_MODE"] = "token",
            ["Wes__Auth__Tokens__0__Sha256"] = Sha256Hex(adminToken),
            ["Wes__Auth__Tokens__0__User"] = AdminUser,
            ["Wes__Auth__Tokens__0__Admin"] = "true",
            ["Wes__Auth__Tokens__1__Sha256"] = Sha256Hex(ownerToken),
            ["Wes__Auth__Tokens__1__User"] = RunSeeder.BigOwner,
        };
        if (database is not null)
        {
            settings["WES_DATABASE"] = database.ConnectionString;
        }

        await using var baseline = await BaselineProcess.StartAsync(cancellationToken);
        await using var server = await ServerProcess.StartAsync(serverDll, ServerRole.Serve, settings, adminToken, cancellationToken);
        var rssStart = ProcessMemory.ReadRssMegabytes(server.ProcessId);
        var allPages = await WalkPagesAsync(server.ApiBase, adminToken, cancellationToken);
        var ownerPages = await WalkPagesAsync(server.ApiBase, ownerToken, cancellationToken);
        await Console.Error.WriteLineAsync($"Walked {allPages.Count + 1} pages of all runs and {ownerPages.Count + 1} of {RunSeeder.BigOwner}'s.");

        var duration = TimeSpan.FromSeconds(arguments.Seconds);
        Task<LoadResult> LoadAsync(string name, Uri baseAddress, Func<int, string> path, string? token)
        {
            Console.Error.WriteLine($"Load: {name} for {arguments.Seconds} s on {arguments.Concurrency} connections ...");
            return LoadGenerator.RunAsync(name, baseAddress, arguments.Concurrency, duration, i => Get(path(i), token), cancellationToken);
        }

        var bare = await LoadAsync("bare GET /bare", baseline.BaseAddress, _ => "bare", null);
        var loads = new List<LoadResult>
        {
            await LoadAsync("GET /service-info", server.ApiBase, _ => "service-info", adminToken),
            await LoadAsync("GET /runs/{id}/status (random seeded run)", server.ApiBase,
                i => $"runs/{seed.SampleRunIds[(int)((uint)(i * 7919) % seed.SampleRunIds.Count)]}/status", adminToken),
        };
        foreach (var (who, token, pages) in new[] { ("all runs", adminToken, allPages), (RunSeeder.BigOwner, ownerToken, ownerPages) })
        {
            foreach (var (which, pageToken) in new[] { ("first", ""), ("middle", Middle(pages)), ("last", Last(pages)) })
            {
                var query = pageToken.Length == 0 ? "runs" : "runs?page_token=" + Uri.EscapeDataString(pageToken);
                loads.Add(await LoadAsync($"GET /runs {which} page, {who}", server.ApiBase, _ => query, token));
            }
        }

        // What the dashboard's runs list asks for on its first render: the page, then the first page of runs.
        var origin = new Uri(server.ApiBase, "/");
        loads.Add(await LoadAsync("GET / (dashboard page)", origin, _ => "", null));
        var script = await ScriptOfAsync(origin, cancellationToken);
        loads.Add(await LoadAsync("GET the runs page's script", origin, _ => script, null));
        loads.Add(await LoadAsync("GET /dashboard/runs first page, all runs", server.ApiBase, _ => "dashboard/runs?page_size=50", adminToken));
        loads.Add(await LoadAsync($"GET /dashboard/runs first page, {RunSeeder.BigOwner}", server.ApiBase, _ => "dashboard/runs?page_size=50", ownerToken));
        loads.Add(await LoadAsync("GET /dashboard/runs?state=EXECUTOR_ERROR first page", server.ApiBase,
            _ => "dashboard/runs?page_size=50&state=EXECUTOR_ERROR", adminToken));
        loads.Add(await LoadAsync("GET /dashboard/finished-per-hour", server.ApiBase, _ => "dashboard/finished-per-hour", adminToken));
        var renders = arguments.Browser is { } browser
            ? await DashboardRender.MeasureAsync(browser, origin, [("all runs", adminToken), (RunSeeder.BigOwner, ownerToken)], cancellationToken)
            : [];

        var rssAfter = ProcessMemory.ReadRssMegabytes(server.ProcessId);
        WriteReport(output, server.Settings, database, seed, allPages.Count + 1, ownerPages.Count + 1, bare, loads, rssStart, rssAfter);
        DashboardRender.WriteTable(output, renders);
        return [.. loads.Prepend(bare).Where(load => load.NotOk > 0).Select(load => $"{load.Name}: {load.NotOk} of {load.Requests} requests did not answer 2xx")];
    }

    /// <summary>Follows next_page_token from the first page to the last with the largest page size; returns every token seen.</summary>
    private static async Task<List<string>> WalkPagesAsync(Uri apiBase, string token, CancellationToken cancellationToken)
    {
        using var http = DirectClient(apiBase);
        var tokens = new List<string>();
        var next = "";
        do
        {
            using var request = Get($"runs?page_size={WalkPageSize}" + (next.Length > 0 ? "&page_token=" + Uri.EscapeDataString(next) : ""), token);
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new BenchException($"GET {request.RequestUri} answered {(int)response.StatusCode}: {body}");
            }

            using var page = JsonDocument.Parse(body);
            next = page.RootElement.TryGetProperty("next_page_token", out var value) ? value.GetString() ?? "" : "";
            if (next.Length > 0)
            {
                tokens.Add(next);
            }
        }
        while (next.Length > 0);
        return tokens;
    }

    /// <summary>The runs page's script, whose path changes with every build of the server.</summary>
    private static async Task<string> ScriptOfAsync(Uri origin, CancellationToken cancellationToken)
    {
        using var http = DirectClient(origin);
        var html = await http.GetStringAsync("", cancellationToken);
        var match = System.Text.RegularExpressions.Regex.Match(html, "src=\"/([^\"]*runs-page\\.js)\"");
        return match.Success ? match.Groups[1].Value : throw new BenchException("GET / has no runs-page.js script.");
    }

    // The server listens on loopback; a proxy set in the environment must not stand between it and the measurement.
    private static HttpClient DirectClient(Uri baseAddress) => new(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = baseAddress };

    // Page n + 1 is reached with the token ending page n; with fewer runs than one walk page, the first page stands in.
    private static string Middle(List<string> tokens) => tokens.Count == 0 ? "" : tokens[tokens.Count / 2];

    private static string Last(List<string> tokens) => tokens.Count == 0 ? "" : tokens[^1];

    private static HttpRequestMessage Get(string path, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    private static string Sha256Hex(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private void WriteReport(
        TextWriter output, IReadOnlyList<string> environment, ScratchDatabase? database, SeedResult seed, int allPages, int ownerPages,
        LoadResult bare, List<LoadResult> loads, double? rssStart, double? rssAfter)
    {
        var kind = database is null ? "SQLite" : $"PostgreSQL {database.ServerVersion}";
        output.WriteLine($"### Scale: {seed.Runs} runs stored ({kind})");
        output.WriteLine();
        output.WriteLine($"Server environment: {Markdown.Code(string.Join(' ', environment.Select(RedactTokens)))}");
        output.WriteLine();
        Markdown.Table(output, ["Seeding", "Value"],
        [
            ["Runs / history rows", $"{seed.Runs} / {seed.HistoryRows} ({seed.BigOwnerRuns} owned by {RunSeeder.BigOwner}, the rest by {RunSeeder.Owners} owners)"],
            ["Seeding time", $"{seed.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s"],
            ["Seeding rate", $"{Markdown.Rate(seed.Runs / seed.Elapsed.TotalSeconds)} runs/s"],
            ["Pages of 500 walked", $"{allPages} (all runs), {ownerPages} ({RunSeeder.BigOwner})"],
        ]);
        LoadGenerator.WriteTable(output, $"Load ({arguments.Seconds} s each)", [(bare, null), .. loads.Select(load => (load, (LoadResult?)bare))]);
        Markdown.Table(output, ["Server memory (VmRSS)", "Value"],
        [
            ["Right after start", ProcessMemory.Format(rssStart)],
            ["After the loads", ProcessMemory.Format(rssAfter)],
        ]);
        output.WriteLine("GET /runs pages use the server's default page size; the middle and last pages are reached with the page tokens " +
            "remembered from one walk at page_size=500. Status requests go to run ids drawn evenly from the whole table. " +
            "The ratio is each row's requests/s over the bare GET's, measured in the same run on the same number of connections.");
        output.WriteLine();
    }

    // The token digests are not secrets, but they are long and say nothing.
    private static string RedactTokens(string setting) =>
        setting.Contains("__Sha256=", StringComparison.Ordinal) ? setting[..(setting.IndexOf('=', StringComparison.Ordinal) + 1)] + "…" : setting;
}
