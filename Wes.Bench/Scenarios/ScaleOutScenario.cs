using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Wes.Bench.Scenarios;

/// <summary>
/// The server split into roles on PostgreSQL: one `api` process and --executors `executor` processes sharing a fresh
/// database and data directory. The executors poll only once a minute, so how soon a run starts measures the
/// LISTEN/NOTIFY wake-up; a burst then measures how the executors share a queue that fills at once.
/// </summary>
internal sealed class ScaleOutScenario(BenchArguments arguments, string serverDll)
{
    private const int WorkersPerExecutor = 2;
    private const int PollIntervalSeconds = 60;
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(2);

    // Far below the poll interval: a run still waiting after this long was not woken, and neither will the next be.
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(15);

    public async Task<IReadOnlyList<string>> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        await using var database = await ScratchDatabase.CreateAsync(arguments.Postgres!, cancellationToken);
        // One data directory for all processes: the API writes each run's folder, an executor runs in it.
        var dataDir = Directory.CreateTempSubdirectory("wes-bench-");
        try
        {
            return await RunOnAsync(output, database, dataDir.FullName, cancellationToken);
        }
        finally
        {
            try
            {
                dataDir.Delete(recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"warning: could not delete {dataDir.FullName}: {ex.Message}");
            }
        }
    }

    private async Task<IReadOnlyList<string>> RunOnAsync(
        TextWriter output, ScratchDatabase database, string dataDir, CancellationToken cancellationToken)
    {
        var settings = new Dictionary<string, string>
        {
            ["WES_DATABASE"] = database.ConnectionString,
            ["WES_DATA_DIR"] = dataDir,
            ["DEFAULT_WES_PROVIDER"] = "Mock",
            ["Wes__Mock__DelayMilliseconds"] = "0",
            ["WORKFLOW_POLL_INTERVAL"] = PollIntervalSeconds.ToString(CultureInfo.InvariantCulture),
            ["WES_MAX_CONCURRENT_RUNS"] = WorkersPerExecutor.ToString(CultureInfo.InvariantCulture),
        };
        // The API first: it applies the migrations, so the executors start on a ready schema.
        await using var api = await ServerProcess.StartAsync(serverDll, ServerRole.Api, settings, cancellationToken);
        var executors = new List<ServerProcess>();
        try
        {
            for (var i = 0; i < arguments.Executors; i++)
            {
                executors.Add(await ServerProcess.StartAsync(serverDll, ServerRole.Executor, settings, cancellationToken));
            }

            using var client = new WesClient(api.ApiBase);
            var failures = new List<string>();
            var sequential = await RunSequentiallyAsync(client, failures, cancellationToken);
            var burst = await RunBurstAsync(client, failures, cancellationToken);
            WriteReport(output, api.Settings, database, sequential, burst);
            return failures;
        }
        finally
        {
            await Task.WhenAll(executors.Select(executor => executor.DisposeAsync().AsTask()));
        }
    }

    /// <summary>--runs runs one at a time, each polled until terminal; stops at the first run that was not woken.</summary>
    private async Task<List<TimedRun>> RunSequentiallyAsync(WesClient client, List<string> failures, CancellationToken cancellationToken)
    {
        var runs = new List<TimedRun>();
        for (var i = 1; i <= arguments.Runs; i++)
        {
            var run = await TimeRunAsync(client, cancellationToken);
            if (i % 10 == 0 || i == arguments.Runs || run.State != "COMPLETE")
            {
                await Console.Error.WriteLineAsync(
                    $"sequential run {i}/{arguments.Runs}: {run.State}, RUNNING seen after {run.RunningMs:F1} ms, done after {run.CompleteMs:F1} ms");
            }

            if (run.State == "COMPLETE")
            {
                runs.Add(run);
            }
            else if (WesClient.IsTerminal(run.State))
            {
                failures.Add($"sequential run {i} ({run.RunId}) ended {run.State}: {await client.DescribeAsync(run.RunId, cancellationToken)}");
            }
            else
            {
                failures.Add($"sequential run {i} ({run.RunId}) was still {run.State} {RunLimit.TotalSeconds:F0} s after it was submitted: " +
                    $"no executor was woken (they poll only every {PollIntervalSeconds} s); the sequential phase stopped there");
                break;
            }
        }

        return runs;
    }

    private static async Task<TimedRun> TimeRunAsync(WesClient client, CancellationToken cancellationToken)
    {
        using var body = new StringContent(ThroughputScenario.RunRequest, Encoding.UTF8, "application/json");
        var started = Stopwatch.GetTimestamp();
        var runId = await client.SubmitAsync(body, cancellationToken);
        var acceptedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        double? runningMs = null;
        while (true)
        {
            var state = await client.GetStateAsync(runId, cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started);
            // A run that starts and ends between two polls is first seen terminal; that still counts as "running by now".
            runningMs ??= WesClient.IsRunningOrLater(state) ? elapsed.TotalMilliseconds : null;
            if (WesClient.IsTerminal(state) || elapsed > RunLimit)
            {
                return new TimedRun(runId, state, acceptedMs, runningMs ?? double.NaN, elapsed.TotalMilliseconds);
            }

            await Task.Delay(PollEvery, cancellationToken);
        }
    }

    /// <summary>--burst runs from --concurrency submitters, then the time until all of them are terminal.</summary>
    private async Task<BurstResult> RunBurstAsync(WesClient client, List<string> failures, CancellationToken cancellationToken)
    {
        await Console.Error.WriteLineAsync($"Burst: submitting {arguments.Burst} runs with {arguments.Concurrency} submitters ...");
        var started = Stopwatch.GetTimestamp();
        var (runIds, postLatencies) = await ThroughputScenario.SubmitAllAsync(client, arguments.Burst, arguments.Concurrency, attachmentBytes: 0, cancellationToken);
        var submitted = Stopwatch.GetElapsedTime(started);
        await Console.Error.WriteLineAsync($"Submitted {runIds.Length} runs in {submitted.TotalMilliseconds:F0} ms; waiting for all to finish.");
        var states = await ThroughputScenario.WaitUntilAllTerminalAsync(client, runIds, cancellationToken);
        var finished = Stopwatch.GetElapsedTime(started);
        failures.AddRange(runIds.Where(id => states[id] != "COMPLETE").Select(id => $"burst run {id} ended {states[id]}, not COMPLETE"));
        var complete = runIds.Count(id => states[id] == "COMPLETE");
        return new BurstResult(runIds.Length, complete, submitted, finished, Summary.Of(postLatencies));
    }

    private void WriteReport(
        TextWriter output, IReadOnlyList<string> environment, ScratchDatabase database, List<TimedRun> sequential, BurstResult burst)
    {
        var workers = arguments.Executors * WorkersPerExecutor;
        output.WriteLine($"### Scale-out: 1 api + {arguments.Executors} executor processes on PostgreSQL, Mock provider (0 ms per run)");
        output.WriteLine();
        output.WriteLine($"Environment of every process: {Markdown.Code(string.Join(' ', environment))}");
        output.WriteLine();
        output.WriteLine($"Database {Markdown.Code(database.Name)} on PostgreSQL {database.ServerVersion}, created for this command and dropped after it. " +
            $"Each executor runs {WorkersPerExecutor} workers ({workers} in all); the api process runs none. With " +
            $"WORKFLOW_POLL_INTERVAL={PollIntervalSeconds} a run can only start quickly if the API's NOTIFY wakes an executor.");
        output.WriteLine();
        output.WriteLine($"#### Wake-up latency: {arguments.Runs} runs one at a time");
        output.WriteLine();
        string[] Row(string measure, Summary s) =>
            [measure, s.Count.ToString(CultureInfo.InvariantCulture), Markdown.Ms(s.Median), Markdown.Ms(s.P90), Markdown.Ms(s.Min), Markdown.Ms(s.Max)];
        Markdown.Table(output, ["Measure", "n", "median ms", "p90 ms", "min ms", "max ms"],
        [
            Row("POST /runs answered", Summary.Of(sequential.Select(r => r.AcceptedMs))),
            Row("submit → RUNNING (or later) seen", Summary.Of(sequential.Select(r => r.RunningMs))),
            Row("submit → COMPLETE seen", Summary.Of(sequential.Select(r => r.CompleteMs))),
        ]);
        output.WriteLine($"Status polled every {PollEvery.TotalMilliseconds:F0} ms, so a state is seen up to one poll interval plus one request late. " +
            "Failed runs, if any, are left out of the table and listed below the report.");
        output.WriteLine();
        output.WriteLine($"#### Burst: {burst.Runs} runs from {arguments.Concurrency} concurrent submitters");
        output.WriteLine();
        var post = burst.PostLatency;
        Markdown.Table(output, ["Measure", "Value"],
        [
            ["Submission phase", $"{Markdown.Ms(burst.Submitted.TotalMilliseconds)} ms"],
            ["Submissions/s", Markdown.Rate(burst.Runs / burst.Submitted.TotalSeconds)],
            ["POST /runs latency median / p90 / max", $"{Markdown.Ms(post.Median)} / {Markdown.Ms(post.P90)} / {Markdown.Ms(post.Max)} ms"],
            ["First POST → all runs terminal", $"{Markdown.Ms(burst.Finished.TotalMilliseconds)} ms"],
            ["Last POST answered → all runs terminal", $"{Markdown.Ms((burst.Finished - burst.Submitted).TotalMilliseconds)} ms"],
            ["Runs finished/s over that time", Markdown.Rate(burst.Runs / burst.Finished.TotalSeconds)],
            ["Runs COMPLETE", $"{burst.Complete} of {burst.Runs}"],
        ]);
        output.WriteLine($"Completion is checked by listing all runs every {ThroughputScenario.PollEvery.TotalMilliseconds:F0} ms through the api process.");
        output.WriteLine();
    }

    private sealed record TimedRun(string RunId, string State, double AcceptedMs, double RunningMs, double CompleteMs);

    private sealed record BurstResult(int Runs, int Complete, TimeSpan Submitted, TimeSpan Finished, Summary PostLatency);
}
