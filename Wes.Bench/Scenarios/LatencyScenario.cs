using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace Wes.Bench.Scenarios;

/// <summary>
/// What WES adds to a tiny real workflow: examples/hello submitted one run at a time through the Local provider,
/// against the same files run by bare cwltool.
/// </summary>
internal sealed class LatencyScenario(BenchArguments arguments, string repositoryRoot, string serverDll)
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(5);

    public async Task<IReadOnlyList<string>> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var workflow = Path.Combine(repositoryRoot, "examples", "hello", "hello.cwl");
        var parameters = Path.Combine(repositoryRoot, "examples", "hello", "params.json");
        if (await ChildProcess.TryReadAsync("cwltool", ["--version"], cancellationToken) is null)
        {
            throw new BenchException("cwltool is not on PATH; install it (apt-get install -y cwltool) to run the latency scenario.");
        }

        var failures = new List<string>();
        // Bare cwltool first, before the server starts, so neither measurement shares the machine with the other.
        var bare = await TimeBareCwltoolAsync(workflow, parameters, failures, cancellationToken);

        var settings = new Dictionary<string, string> { ["DEFAULT_WES_PROVIDER"] = "Local" };
        await using var server = await ServerProcess.StartAsync(serverDll, settings, cancellationToken);
        using var client = new WesClient(server.ApiBase);
        var workflowBytes = await File.ReadAllBytesAsync(workflow, cancellationToken);
        var paramsText = await File.ReadAllTextAsync(parameters, cancellationToken);
        var runs = new List<WesRun>();
        for (var i = 1; i <= arguments.Runs; i++)
        {
            var run = await TimeRunAsync(client, workflowBytes, paramsText, cancellationToken);
            await Console.Error.WriteLineAsync($"WES run {i}/{arguments.Runs}: {run.State} after {run.CompleteMs:F0} ms");
            if (run.State == "COMPLETE")
            {
                runs.Add(run);
            }
            else
            {
                failures.Add($"WES run {i} ({run.RunId}) ended {run.State}: {await client.DescribeAsync(run.RunId, cancellationToken)}");
            }
        }

        WriteReport(output, server.Settings, runs, bare);
        return failures;
    }

    private static async Task<WesRun> TimeRunAsync(WesClient client, byte[] workflow, string parameters, CancellationToken cancellationToken)
    {
        using var form = HelloForm(workflow, parameters);
        var started = Stopwatch.GetTimestamp();
        var runId = await client.SubmitAsync(form, cancellationToken);
        var acceptedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        double? runningMs = null;
        while (true)
        {
            var state = await client.GetStateAsync(runId, cancellationToken);
            var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            // A run that starts and ends between two polls is first seen terminal; that still counts as "running by now".
            runningMs ??= WesClient.IsRunningOrLater(state) ? elapsedMs : null;
            if (WesClient.IsTerminal(state))
            {
                return new WesRun(runId, state, acceptedMs, runningMs ?? elapsedMs, elapsedMs);
            }

            await Task.Delay(PollEvery, cancellationToken);
        }
    }

    /// <summary>The spec's multipart form: JSON-encoded text fields plus the workflow as a workflow_attachment part.</summary>
    private static MultipartFormDataContent HelloForm(byte[] workflow, string parameters)
    {
        var attachment = new ByteArrayContent(workflow);
        attachment.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent
        {
            { new StringContent("CWL"), "workflow_type" },
            { new StringContent("v1.0"), "workflow_type_version" },
            { new StringContent("hello.cwl"), "workflow_url" },
            { new StringContent(parameters), "workflow_params" },
            { attachment, "workflow_attachment", "hello.cwl" },
        };
    }

    private async Task<List<double>> TimeBareCwltoolAsync(
        string workflow, string parameters, List<string> failures, CancellationToken cancellationToken)
    {
        var times = new List<double>();
        var scratch = Directory.CreateTempSubdirectory("wes-bench-cwltool-");
        try
        {
            for (var i = 1; i <= arguments.Runs; i++)
            {
                var outdir = Path.Combine(scratch.FullName, i.ToString(CultureInfo.InvariantCulture));
                var result = await ChildProcess.RunAsync(
                    "cwltool", ["--outdir", outdir, workflow, parameters], scratch.FullName, cancellationToken);
                await Console.Error.WriteLineAsync($"bare cwltool {i}/{arguments.Runs}: exit {result.ExitCode} after {result.Elapsed.TotalMilliseconds:F0} ms");
                if (result.ExitCode == 0)
                {
                    times.Add(result.Elapsed.TotalMilliseconds);
                }
                else
                {
                    var last = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
                    failures.Add($"bare cwltool run {i} exited with code {result.ExitCode}: {last}");
                }
            }
        }
        finally
        {
            scratch.Delete(recursive: true);
        }

        return times;
    }

    private static void WriteReport(TextWriter output, IReadOnlyList<string> environment, List<WesRun> runs, List<double> bare)
    {
        output.WriteLine("### Latency: examples/hello, Local provider (cwltool), one run at a time");
        output.WriteLine();
        output.WriteLine($"Server environment: {Markdown.Code(string.Join(' ', environment))}");
        output.WriteLine();
        string[] Row(string measure, Summary s) =>
            [measure, s.Count.ToString(CultureInfo.InvariantCulture), Markdown.Ms(s.Median), Markdown.Ms(s.P90), Markdown.Ms(s.Min), Markdown.Ms(s.Max)];
        var complete = Summary.Of(runs.Select(r => r.CompleteMs));
        var cwltool = Summary.Of(bare);
        Markdown.Table(output, ["Measure", "n", "median ms", "p90 ms", "min ms", "max ms"],
        [
            Row("WES: POST /runs answered", Summary.Of(runs.Select(r => r.AcceptedMs))),
            Row("WES: submit → RUNNING (or later) seen", Summary.Of(runs.Select(r => r.RunningMs))),
            Row("WES: submit → COMPLETE seen", complete),
            Row("bare cwltool: start → exit", cwltool),
        ]);
        var ratio = complete.Median / cwltool.Median;
        var ratioText = double.IsFinite(ratio) ? ratio.ToString("F2", CultureInfo.InvariantCulture) + "×" : "– (no successful runs to compare)";
        output.WriteLine($"Ratio median(WES submit → COMPLETE) / median(bare cwltool): **{ratioText}** " +
            $"(WES adds {Markdown.Ms(complete.Median - cwltool.Median)} ms at the median).");
        output.WriteLine();
        output.WriteLine($"Status polled every {PollEvery.TotalMilliseconds:F0} ms, so a state is seen up to one poll interval plus one request late. " +
            "Failed runs, if any, are left out of the table and listed below it.");
        output.WriteLine();
    }

    private sealed record WesRun(string RunId, string State, double AcceptedMs, double RunningMs, double CompleteMs);
}
