using System.Diagnostics;
using System.Globalization;

namespace Wes.Bench;

/// <summary>One fixed-duration load: how many requests, how fast, how long each took, and how many did not answer 2xx.</summary>
internal sealed record LoadResult(string Name, int Connections, int Requests, double PerSecond, Summary Latency, int NotOk)
{
    /// <summary>This load's rate as a share of <paramref name="baseline"/>'s, e.g. "0.62".</summary>
    public string RatioTo(LoadResult baseline) =>
        baseline.PerSecond > 0 ? (PerSecond / baseline.PerSecond).ToString("F2", CultureInfo.InvariantCulture) : "–";
}

/// <summary>
/// N connections, each sending the next request as soon as the last answer has been read in full, for a fixed time.
/// A short warm-up before the measured time lets the JIT and the connection pools settle; it is not counted.
/// </summary>
internal static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(
        string name, Uri baseAddress, int connections, TimeSpan duration, Func<int, HttpRequestMessage> request,
        CancellationToken cancellationToken)
    {
        // One client per load, capped at N connections, so each load opens exactly its own connections.
        using var http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            MaxConnectionsPerServer = connections,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        })
        {
            BaseAddress = baseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var warmUp = TimeSpan.FromMilliseconds(Math.Min(1000, duration.TotalMilliseconds / 4));
        await RunPhaseAsync(http, connections, warmUp, request, cancellationToken);
        var (latencies, notOk, elapsed) = await RunPhaseAsync(http, connections, duration, request, cancellationToken);
        return new LoadResult(name, connections, latencies.Count, latencies.Count / elapsed.TotalSeconds, Summary.Of(latencies), notOk);
    }

    private static async Task<(List<double> Latencies, int NotOk, TimeSpan Elapsed)> RunPhaseAsync(
        HttpClient http, int connections, TimeSpan duration, Func<int, HttpRequestMessage> request, CancellationToken cancellationToken)
    {
        var perConnection = new List<double>[connections];
        var notOk = 0;
        var sequence = -1;
        var started = Stopwatch.GetTimestamp();
        async Task ConnectionAsync(int index)
        {
            var latencies = perConnection[index] = [];
            while (Stopwatch.GetElapsedTime(started) < duration)
            {
                using var message = request(Interlocked.Increment(ref sequence));
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref notOk);
                    }
                }
                catch (HttpRequestException)
                {
                    // A refused or reset connection is a failed request, not the end of the load.
                    Interlocked.Increment(ref notOk);
                }

                latencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, connections).Select(ConnectionAsync));
        return ([.. perConnection.SelectMany(latencies => latencies)], notOk, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The rows of a load table: requests, rate, ratio to the baseline, percentiles and failures.</summary>
    public static void WriteTable(TextWriter output, string title, IReadOnlyList<(LoadResult Load, LoadResult? Baseline)> rows)
    {
        Markdown.Table(output,
            [title, "conns", "requests", "req/s", "ratio", "p50 ms", "p90 ms", "p99 ms", "max ms", "non-2xx"],
            rows.Select(row => (IReadOnlyList<string>)
            [
                row.Load.Name, row.Load.Connections.ToString(CultureInfo.InvariantCulture),
                row.Load.Requests.ToString(CultureInfo.InvariantCulture), Markdown.Rate(row.Load.PerSecond),
                row.Baseline is null ? "1.00 (baseline)" : $"{row.Load.RatioTo(row.Baseline)} of {row.Baseline.Name}",
                Markdown.Ms(row.Load.Latency.Median), Markdown.Ms(row.Load.Latency.P90), Markdown.Ms(row.Load.Latency.P99),
                Markdown.Ms(row.Load.Latency.Max), row.Load.NotOk.ToString(CultureInfo.InvariantCulture),
            ]));
    }
}
