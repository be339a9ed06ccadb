using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Data.Sqlite;
using Wes.Bench.Baseline;

namespace Wes.Bench.Scenarios;

/// <summary>
/// Submission and execution rates on an empty database with the Mock provider and the default pool: cold start,
/// pickup latency read from the run history, end-to-end rounds with the server's memory after each, then
/// fixed-duration loads on POST /runs (JSON and multipart) and run status beside the bare baselines.
/// </summary>
internal sealed class SubmitScenario(BenchArguments arguments, string serverDll)
{
    private const int PostConnections = 64;
    private const int PickupRuns = 50;
    private const int ListPageSize = 500;
    private static readonly TimeSpan PickupPollEvery = TimeSpan.FromMilliseconds(2);

    public async Task<IReadOnlyList<string>> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        await Console.Error.WriteLineAsync($"Cold start: {arguments.Starts} start(s) on empty data directories ...");
        var coldStart = await ColdStart.MeasureAsync(serverDll, arguments.Starts, cancellationToken);
        await using var database = arguments.Postgres is null ? null : await ScratchDatabase.CreateAsync(arguments.Postgres, cancellationToken);
        var dataDir = Directory.CreateTempSubdirectory("wes-bench-");
        try
        {
            return await RunOnAsync(output, dataDir.FullName, database, coldStart, cancellationToken);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            dataDir.Delete(recursive: true);
        }
    }

    private async Task<IReadOnlyList<string>> RunOnAsync(
        TextWriter output, string dataDir, ScratchDatabase? database, Summary coldStart, CancellationToken cancellationToken)
    {
        var settings = new Dictionary<string, string>
        {
            ["WES_DATA_DIR"] = dataDir,
            ["DEFAULT_WES_PROVIDER"] = "Mock",
            ["Wes__Mock__DelayMilliseconds"] = "0",
        };
        if (database is not null)
        {
            settings["WES_DATABASE"] = database.ConnectionString;
        }

        await using var baseline = await BaselineProcess.StartAsync(cancellationToken);
        await using var server = await ServerProcess.StartAsync(serverDll, settings, cancellationToken);
        var rssIdle = ProcessMemory.ReadRssMegabytes(server.ProcessId);
        using var client = new WesClient(server.ApiBase);
        var failures = new List<string>();

        await Console.Error.WriteLineAsync($"Pickup: {Math.Min(PickupRuns, arguments.Runs)} runs one at a time ...");
        var pickup = await MeasurePickupAsync(client, dataDir, database, failures, cancellationToken);
        var rounds = new List<RoundResult>();
        var allRunIds = new List<string>();
        for (var round = 1; round <= arguments.Rounds; round++)
        {
            await Console.Error.WriteLineAsync($"End-to-end round {round} of {arguments.Rounds}: {arguments.Runs} runs ...");
            var result = await RunRoundAsync(client, round, failures, cancellationToken);
            rounds.Add(result with { RssAfter = ProcessMemory.ReadRssMegabytes(server.ProcessId) });
            allRunIds.AddRange(result.RunIds);
        }

        var duration = TimeSpan.FromSeconds(arguments.Seconds);
        Task<LoadResult> LoadAsync(string name, Uri baseAddress, int connections, Func<int, HttpRequestMessage> request)
        {
            Console.Error.WriteLine($"Load: {name} for {arguments.Seconds} s on {connections} connections ...");
            return LoadGenerator.RunAsync(name, baseAddress, connections, duration, request, cancellationToken);
        }

        var attachment = WorkflowAttachment();
        var bareGet = await LoadAsync("bare GET /bare", baseline.BaseAddress, arguments.Concurrency, _ => new HttpRequestMessage(HttpMethod.Get, "bare"));
        var status = await LoadAsync("GET /runs/{id}/status", server.ApiBase, arguments.Concurrency,
            i => new HttpRequestMessage(HttpMethod.Get, $"runs/{allRunIds[(int)((uint)(i * 7919) % allRunIds.Count)]}/status"));
        var bareInsert = await LoadAsync("bare POST /bare/insert (SQLite row)", baseline.BaseAddress, PostConnections, _ => JsonPost("bare/insert"));
        var jsonPost = await LoadAsync("POST /runs (JSON)", server.ApiBase, PostConnections, _ => JsonPost("runs"));
        var multipartPost = await LoadAsync("POST /runs (multipart, 10 KB attachment)", server.ApiBase, PostConnections,
            _ => new HttpRequestMessage(HttpMethod.Post, "runs") { Content = MultipartForm(attachment) });
        var rssAfter = ProcessMemory.ReadRssMegabytes(server.ProcessId);

        var loads = new List<(LoadResult, LoadResult?)> { (bareGet, null), (status, bareGet), (bareInsert, null), (jsonPost, bareInsert), (multipartPost, bareInsert) };
        failures.AddRange(loads.Where(row => row.Item1.NotOk > 0).Select(row => $"{row.Item1.Name}: {row.Item1.NotOk} of {row.Item1.Requests} requests did not answer 2xx"));
        WriteReport(output, server.Settings, database, coldStart, pickup, rounds, loads, rssIdle, rssAfter);
        return failures;
    }

    /// <summary>
    /// Runs submitted one at a time into an idle pool, each polled until terminal; the pickup times come from the
    /// server's own history rows (millisecond timestamps), so they do not depend on how often the client polls.
    /// </summary>
    private async Task<PickupResult> MeasurePickupAsync(
        WesClient client, string dataDir, ScratchDatabase? database, List<string> failures, CancellationToken cancellationToken)
    {
        var runIds = new List<string>();
        var seen = new List<double>();
        for (var i = 0; i < Math.Min(PickupRuns, arguments.Runs); i++)
        {
            var sent = Stopwatch.GetTimestamp();
            using var body = new StringContent(ThroughputScenario.RunRequest, Encoding.UTF8, "application/json");
            var runId = await client.SubmitAsync(body, cancellationToken);
            string state;
            while (!WesClient.IsTerminal(state = await client.GetStateAsync(runId, cancellationToken)))
            {
                await Task.Delay(PickupPollEvery, cancellationToken);
            }

            seen.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            runIds.Add(runId);
            if (state != "COMPLETE")
            {
                failures.Add($"pickup run {runId} ended {state}, not COMPLETE");
            }
        }

        var (claimed, running) = (new List<double>(), new List<double>());
        using var bench = await BenchStore.OpenAsync(dataDir, database?.ConnectionString, migrate: false, cancellationToken);
        foreach (var runId in runIds)
        {
            var history = await bench.Store.GetHistoryAsync(runId, cancellationToken);
            var submitted = history.First(change => change.FromState is null).At;
            claimed.AddRange(history.Where(change => change.ToState == "INITIALIZING").Take(1).Select(change => (double)(change.At - submitted)));
            running.AddRange(history.Where(change => change.ToState == "RUNNING").Take(1).Select(change => (double)(change.At - submitted)));
        }

        return new PickupResult(Summary.Of(claimed), Summary.Of(running), Summary.Of(seen));
    }

    private async Task<RoundResult> RunRoundAsync(WesClient client, int round, List<string> failures, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (runIds, _) = await ThroughputScenario.SubmitAllAsync(client, arguments.Runs, arguments.Concurrency, attachmentBytes: 0, cancellationToken);
        var submitted = Stopwatch.GetElapsedTime(started);
        var wanted = runIds.ToHashSet(StringComparer.Ordinal);
        Dictionary<string, string> states;
        while (true)
        {
            states = await client.ListStatesAsync(ListPageSize, wanted, cancellationToken);
            if (runIds.All(id => states.TryGetValue(id, out var state) && WesClient.IsTerminal(state)))
            {
                break;
            }

            await Task.Delay(ThroughputScenario.PollEvery, cancellationToken);
        }

        var finished = Stopwatch.GetElapsedTime(started);
        var notComplete = runIds.Where(id => states[id] != "COMPLETE").ToList();
        failures.AddRange(notComplete.Select(id => $"round {round}: run {id} ended {states[id]}, not COMPLETE"));
        return new RoundResult(round, runIds, submitted, finished, runIds.Length - notComplete.Count, null);
    }

    private static HttpRequestMessage JsonPost(string path) =>
        new(HttpMethod.Post, path) { Content = new StringContent(ThroughputScenario.RunRequest, Encoding.UTF8, "application/json") };

    /// <summary>A CWL document padded with comment lines to 10 KB: the size of a small real workflow file.</summary>
    private static byte[] WorkflowAttachment()
    {
        var text = new StringBuilder("cwlVersion: v1.0\nclass: CommandLineTool\nbaseCommand: echo\ninputs: []\noutputs: []\n");
        while (text.Length < 10 * 1024)
        {
            text.Append("# padding that stands for the steps, inputs and documentation of a real workflow\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString(0, 10 * 1024));
    }

    private static MultipartFormDataContent MultipartForm(byte[] attachment)
    {
        var file = new ByteArrayContent(attachment);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent
        {
            { new StringContent("CWL"), "workflow_type" },
            { new StringContent("v1.0"), "workflow_type_version" },
            { new StringContent("hello.cwl"), "workflow_url" },
            { new StringContent("{}"), "workflow_params" },
            { file, "workflow_attachment", "hello.cwl" },
        };
    }

    private void WriteReport(
        TextWriter output, IReadOnlyList<string> environment, ScratchDatabase? database, Summary coldStart, PickupResult pickup,
        List<RoundResult> rounds, List<(LoadResult, LoadResult?)> loads, double? rssIdle, double? rssAfter)
    {
        var kind = database is null ? "SQLite" : $"PostgreSQL {database.ServerVersion}";
        output.WriteLine($"### Submit: Mock provider (0 ms per run), default pool, empty {kind} database");
        output.WriteLine();
        output.WriteLine($"Server environment: {Markdown.Code(string.Join(' ', environment))}");
        output.WriteLine();
        static IReadOnlyList<string> Row(string name, Summary s) =>
            [name, s.Count.ToString(CultureInfo.InvariantCulture), Markdown.Ms(s.Median), Markdown.Ms(s.P90), Markdown.Ms(s.Min), Markdown.Ms(s.Max)];
        Markdown.Table(output, ["Latency", "n", "p50 ms", "p90 ms", "min ms", "max ms"],
        [
            Row("Cold start: process start → first 200 on service-info (SQLite, empty)", coldStart),
            Row("Pickup: submitted → claimed (QUEUED → INITIALIZING, history)", pickup.Claimed),
            Row("Pickup: submitted → RUNNING (history)", pickup.Running),
            Row("POST sent → COMPLETE seen (status polled every 2 ms)", pickup.Seen),
        ]);
        var first = rounds.FirstOrDefault()?.RssAfter;
        Markdown.Table(output, ["End-to-end round", "runs", "submission s", "submit → all terminal s", "runs/s", "COMPLETE", "RSS after", "RSS vs round 1"],
            rounds.Select(r => (IReadOnlyList<string>)
            [
                r.Round.ToString(CultureInfo.InvariantCulture), r.RunIds.Length.ToString(CultureInfo.InvariantCulture),
                Seconds(r.Submitted), Seconds(r.Finished), Markdown.Rate(r.RunIds.Length / r.Finished.TotalSeconds),
                r.Complete.ToString(CultureInfo.InvariantCulture), ProcessMemory.Format(r.RssAfter),
                r.RssAfter is { } rss && first is { } baseRss ? $"{(rss - baseRss).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture)} MB" : "–",
            ]));
        LoadGenerator.WriteTable(output, $"Load ({arguments.Seconds} s each)", loads);
        Markdown.Table(output, ["Server memory (VmRSS)", "Value"],
        [
            ["Idle on the empty database, right after start", ProcessMemory.Format(rssIdle)],
            .. rounds.Select(r => (IReadOnlyList<string>)[$"After end-to-end round {r.Round}", ProcessMemory.Format(r.RssAfter)]),
            ["After the loads", ProcessMemory.Format(rssAfter)],
        ]);
        output.WriteLine($"Each round posts {arguments.Runs} JSON runs from {arguments.Concurrency} submitters and lists the newest runs every " +
            $"{ThroughputScenario.PollEvery.TotalMilliseconds:F0} ms until all of them are terminal. POST loads use {PostConnections} connections; " +
            "JSON POST /runs is compared with the bare endpoint that inserts one SQLite row (WAL, synchronous=NORMAL), status with the bare GET.");
        output.WriteLine();
    }

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture);

    private sealed record PickupResult(Summary Claimed, Summary Running, Summary Seen);

    private sealed record RoundResult(int Round, string[] RunIds, TimeSpan Submitted, TimeSpan Finished, int Complete, double? RssAfter);
}
