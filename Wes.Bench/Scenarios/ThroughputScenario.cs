using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Wes.Bench.Scenarios;

/// <summary>
/// The server's own cost with the engine taken away: the Mock provider finishes every run at once, so what is
/// measured is submission, the executor pool, the store, and the read endpoints.
/// </summary>
internal sealed class ThroughputScenario(BenchArguments arguments, string serverDll)
{
    // The Mock provider never fetches workflow_url, so this body needs no network.
    internal const string RunRequest =
        """{"workflow_type":"CWL","workflow_type_version":"v1.0","workflow_url":"https://example.com/hello.cwl","workflow_params":{}}""";

    // The server's default maximum page size; it may return fewer, and ListStatesAsync follows next_page_token.
    private const int ListPageSize = 500;
    internal static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(10);
    private static readonly string[] LoadPaths = ["runs?page_size=50", "service-info"];

    public async Task<IReadOnlyList<string>> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var workers = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture);
        var settings = new Dictionary<string, string>
        {
            ["DEFAULT_WES_PROVIDER"] = "Mock",
            ["Wes__Mock__DelayMilliseconds"] = "0",
            ["WES_MAX_CONCURRENT_RUNS"] = workers,
        };
        await using var server = await ServerProcess.StartAsync(serverDll, settings, cancellationToken);
        using var client = new WesClient(server.ApiBase);

        var started = Stopwatch.GetTimestamp();
        var (runIds, postLatencies) = await SubmitAllAsync(client, arguments.Runs, arguments.Concurrency, arguments.AttachmentBytes, cancellationToken);
        var submitted = Stopwatch.GetElapsedTime(started);
        await Console.Error.WriteLineAsync($"Submitted {runIds.Length} runs in {submitted.TotalMilliseconds:F0} ms; waiting for all to finish.");
        var states = await WaitUntilAllTerminalAsync(client, runIds, cancellationToken);
        var finished = Stopwatch.GetElapsedTime(started);
        var complete = runIds.Count(id => states[id] == "COMPLETE");
        var failures = runIds.Where(id => states[id] != "COMPLETE").Select(id => $"run {id} ended {states[id]}, not COMPLETE").ToList();

        var loads = new List<LoadResult>();
        foreach (var path in LoadPaths)
        {
            await Console.Error.WriteLineAsync($"Load on GET {path} for {arguments.Seconds} s with {arguments.Concurrency} clients ...");
            var load = await LoadAsync(client, path, cancellationToken);
            loads.Add(load);
            if (load.NotOk > 0)
            {
                failures.Add($"GET {path}: {load.NotOk} of {load.Requests} requests did not answer 200");
            }
        }

        var submission = new SubmissionResult(runIds.Length, complete, submitted, finished, Summary.Of(postLatencies));
        WriteReport(output, server.Settings, workers, submission, loads);
        return failures;
    }

    /// <summary>The same request as multipart, with one attachment in a subfolder (the Mock provider never reads it).</summary>
    private static MultipartFormDataContent Multipart(byte[] attachment)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("CWL"), "workflow_type" },
            { new StringContent("v1.0"), "workflow_type_version" },
            { new StringContent("https://example.com/hello.cwl"), "workflow_url" },
            { new StringContent("{}"), "workflow_params" },
            { new ByteArrayContent(attachment), "workflow_attachment", "data/input.bin" },
        };
        return form;
    }

    /// <summary>Concurrent submitters share one counter, so exactly <paramref name="runs"/> runs are sent however fast each one is.</summary>
    internal static async Task<(string[] RunIds, double[] Latencies)> SubmitAllAsync(
        WesClient client, int runs, int concurrency, int attachmentBytes, CancellationToken cancellationToken)
    {
        var attachment = new byte[attachmentBytes];
        Random.Shared.NextBytes(attachment);
        var runIds = new string[runs];
        var latencies = new double[runs];
        var next = -1;
        async Task SubmitterAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < runIds.Length)
            {
                using HttpContent body = attachmentBytes == 0 ? new StringContent(RunRequest, Encoding.UTF8, "application/json") : Multipart(attachment);
                var sent = Stopwatch.GetTimestamp();
                runIds[i] = await client.SubmitAsync(body, cancellationToken);
                latencies[i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => SubmitterAsync()));
        return (runIds, latencies);
    }

    /// <summary>Lists all runs every <see cref="PollEvery"/> until each of <paramref name="runIds"/> is terminal; returns every run's state.</summary>
    internal static async Task<Dictionary<string, string>> WaitUntilAllTerminalAsync(
        WesClient client, string[] runIds, CancellationToken cancellationToken)
    {
        while (true)
        {
            var states = await client.ListStatesAsync(ListPageSize, cancellationToken);
            if (runIds.All(id => states.TryGetValue(id, out var state) && WesClient.IsTerminal(state)))
            {
                return states;
            }

            await Task.Delay(PollEvery, cancellationToken);
        }
    }

    /// <summary>--concurrency clients each send the next request as soon as the last one is read, for --seconds.</summary>
    private async Task<LoadResult> LoadAsync(WesClient client, string path, CancellationToken cancellationToken)
    {
        var duration = TimeSpan.FromSeconds(arguments.Seconds);
        var perClient = new List<double>[arguments.Concurrency];
        var notOk = 0;
        var started = Stopwatch.GetTimestamp();
        async Task ClientAsync(int index)
        {
            var latencies = perClient[index] = [];
            while (Stopwatch.GetElapsedTime(started) < duration)
            {
                var sent = Stopwatch.GetTimestamp();
                var status = await client.GetStatusCodeAsync(path, cancellationToken);
                latencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                if (status != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref notOk);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, arguments.Concurrency).Select(ClientAsync));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var all = perClient.SelectMany(latencies => latencies).ToList();
        return new LoadResult(path, all.Count, all.Count / elapsed.TotalSeconds, Summary.Of(all), notOk);
    }

    private void WriteReport(
        TextWriter output, IReadOnlyList<string> environment, string workers, SubmissionResult submission, List<LoadResult> loads)
    {
        output.WriteLine($"### Throughput: Mock provider (0 ms per run), WES_MAX_CONCURRENT_RUNS={workers}");
        output.WriteLine();
        output.WriteLine($"Server environment: {Markdown.Code(string.Join(' ', environment))}");
        output.WriteLine();
        var post = submission.PostLatency;
        Markdown.Table(output, ["Measure", "Value"],
        [
            [arguments.AttachmentBytes == 0 ? "Runs submitted (JSON body)" : $"Runs submitted (multipart, one {arguments.AttachmentBytes}-byte attachment)",
                $"{submission.Runs} by {arguments.Concurrency} concurrent submitters"],
            ["Submission phase", $"{Markdown.Ms(submission.Submitted.TotalMilliseconds)} ms"],
            ["Submissions/s", Markdown.Rate(submission.Runs / submission.Submitted.TotalSeconds)],
            ["POST /runs latency median / p90 / max", $"{Markdown.Ms(post.Median)} / {Markdown.Ms(post.P90)} / {Markdown.Ms(post.Max)} ms"],
            ["First POST → all runs terminal", $"{Markdown.Ms(submission.Finished.TotalMilliseconds)} ms"],
            ["Runs finished/s over that time", Markdown.Rate(submission.Runs / submission.Finished.TotalSeconds)],
            ["Runs COMPLETE", $"{submission.Complete} of {submission.Runs}"],
        ]);
        Markdown.Table(output,
            [$"Read load ({arguments.Concurrency} clients, {arguments.Seconds} s each)", "requests", "requests/s", "median ms", "p90 ms", "max ms", "non-200"],
            loads.Select(l => (IReadOnlyList<string>)
            [
                "GET /" + l.Path, l.Requests.ToString(CultureInfo.InvariantCulture), Markdown.Rate(l.PerSecond),
                Markdown.Ms(l.Latency.Median), Markdown.Ms(l.Latency.P90), Markdown.Ms(l.Latency.Max), l.NotOk.ToString(CultureInfo.InvariantCulture),
            ]));
        output.WriteLine($"The read load runs after the submissions, so GET /runs pages through a database holding those {submission.Runs} runs. " +
            $"Completion is checked by listing all runs every {PollEvery.TotalMilliseconds:F0} ms.");
        output.WriteLine();
    }

    private sealed record SubmissionResult(int Runs, int Complete, TimeSpan Submitted, TimeSpan Finished, Summary PostLatency);

    private sealed record LoadResult(string Path, int Requests, double PerSecond, Summary Latency, int NotOk);
}
