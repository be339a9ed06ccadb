using System.Diagnostics;
using System.Globalization;
using Wes.Persistence;
using Wes.Runs;

namespace Wes.Bench.Scenarios;

/// <summary>What seeding wrote: how long it took, and run ids drawn evenly from every part of the table.</summary>
internal sealed record SeedResult(int Runs, int HistoryRows, int BigOwnerRuns, TimeSpan Elapsed, IReadOnlyList<string> SampleRunIds);

/// <summary>
/// Finished runs as the server would have written them over about a year: ~100 owners plus one who owns a fifth of
/// all runs, mostly COMPLETE, each with a ~0.5 KB request, tags, and the history rows of its life (submitted, claimed,
/// RUNNING, final). Deterministic for a given count, so two benchmark runs measure the same table.
/// </summary>
internal sealed class RunSeeder(RunStore store)
{
    public const string BigOwner = "owner-big";
    public const int Owners = 100;

    // A few thousand runs per transaction: large enough that commits do not dominate, small enough to retry.
    private const int RunsPerImport = 5000;
    private const int SampleSize = 10_000;
    private const long Spacing = 30_000;

    public async Task<SeedResult> SeedAsync(int count, CancellationToken cancellationToken)
    {
        var random = new Random(20_240_601);
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (count * Spacing);
        var sample = new List<string>();
        var sampleEvery = Math.Max(1, count / SampleSize);
        var (historyRows, bigOwnerRuns) = (0, 0);
        var started = Stopwatch.GetTimestamp();
        for (var first = 0; first < count; first += RunsPerImport)
        {
            var runs = new List<Run>(RunsPerImport);
            var history = new List<RunStateChange>(RunsPerImport * 5);
            for (var i = first; i < Math.Min(count, first + RunsPerImport); i++)
            {
                var run = NewRun(random, start + (i * Spacing));
                runs.Add(run);
                AddHistory(history, run, random);
                bigOwnerRuns += run.Owner == BigOwner ? 1 : 0;
                if (i % sampleEvery == 0)
                {
                    sample.Add(run.RunId);
                }
            }

            await store.ImportAsync(runs, history, cancellationToken);
            historyRows += history.Count;
            var done = first + runs.Count;
            if (done % 100_000 < RunsPerImport || done == count)
            {
                var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                await Console.Error.WriteLineAsync($"Seeded {done} of {count} runs in {seconds:F1} s ({done / seconds:F0} runs/s).");
            }
        }

        return new SeedResult(count, historyRows, bigOwnerRuns, Stopwatch.GetElapsedTime(started), sample);
    }

    private static Run NewRun(Random random, long submittedAt)
    {
        var owner = random.NextDouble() < 0.2 ? BigOwner : "user-" + random.Next(Owners).ToString("D2", CultureInfo.InvariantCulture);
        var roll = random.NextDouble();
        var state = roll < 0.90 ? RunState.Complete : roll < 0.96 ? RunState.ExecutorError : roll < 0.99 ? RunState.Canceled : RunState.SystemError;
        var startedAt = submittedAt + random.Next(5, 200);
        var endedAt = startedAt + random.Next(1_000, 3_600_000);
        var sampleName = "S" + random.Next(1_000_000).ToString("D7", CultureInfo.InvariantCulture);
        var project = "p-" + random.Next(40).ToString("D2", CultureInfo.InvariantCulture);
        var id = new byte[16];
        random.NextBytes(id);
        return new Run
        {
            RunId = new Guid(id).ToString("D"),
            State = state.ToWes(),
            SubmittedAt = submittedAt,
            StartedAt = startedAt,
            EndedAt = endedAt,
            UpdatedAt = endedAt,
            Provider = "Local",
            Owner = owner,
            WorkflowType = "CWL",
            WorkflowTypeVersion = "v1.2",
            WorkflowUrl = "workflows/align.cwl",
            Engine = "cwltool",
            EngineVersion = "3.1.20240508115724",
            Attempt = 1,
            ExitCode = state switch { RunState.Complete => 0, RunState.Canceled or RunState.SystemError => null, _ => 1 },
            ErrorMessage = state == RunState.SystemError ? "The engine could not be started: cwltool exited before it reported a step." : null,
            CmdJson = """["cwltool","--outdir","outputs","workflows/align.cwl","params.json"]""",
            OutputsJson = state == RunState.Complete ? $$$"""{"aligned":{"class":"File","location":"outputs/{{{sampleName}}}.bam","size":{{{random.Next(1 << 20, 1 << 30)}}}}}""" : null,
            RequestJson = RequestJson(sampleName, project),
            TagsJson = $$"""{"project":"{{project}}","sample":"{{sampleName}}","pipeline":"align-v2"}""",
            SystemLogsJson = "[]",
        };
    }

    /// <summary>About half a kilobyte, shaped like a real submission: parameters naming input files, engine options, tags.</summary>
    private static string RequestJson(string sampleName, string project) =>
        $$"""{"workflow_params":{"reads_1":{"class":"File","location":"https://data.example.org/{{project}}/{{sampleName}}_R1.fastq.gz"},"reads_2":{"class":"File","location":"https://data.example.org/{{project}}/{{sampleName}}_R2.fastq.gz"},"reference":{"class":"File","location":"https://data.example.org/ref/GRCh38.fa"},"threads":4,"min_quality":20},"workflow_type":"CWL","workflow_type_version":"v1.2","tags":{"project":"{{project}}","sample":"{{sampleName}}","pipeline":"align-v2"},"workflow_engine_parameters":{"--parallel":""},"workflow_url":"workflows/align.cwl"}""";

    private static void AddHistory(List<RunStateChange> history, Run run, Random random)
    {
        const string Executor = "bench-host:4242:0a1b2c3d";
        var claimedAt = run.StartedAt!.Value;
        var runningAt = claimedAt + random.Next(1, 30);
        var end = run.EndedAt!.Value;
        history.Add(Change(run, null, RunState.Queued, run.SubmittedAt, run.Owner, "submitted"));
        history.Add(Change(run, RunState.Queued, RunState.Initializing, claimedAt, Executor, "claimed (attempt 1)"));
        history.Add(Change(run, RunState.Initializing, RunState.Running, runningAt, Executor, "engine started"));
        switch (run.RunState)
        {
            case RunState.Canceled:
                history.Add(Change(run, RunState.Running, RunState.Canceling, end - 500, run.Owner, "cancel requested"));
                history.Add(Change(run, RunState.Canceling, RunState.Canceled, end, Executor, "canceled (engine stopped after the cancel request)"));
                break;
            case RunState.Complete:
                history.Add(Change(run, RunState.Running, RunState.Complete, end, Executor, "engine exited with code 0"));
                break;
            default:
                history.Add(Change(run, RunState.Running, run.RunState, end, Executor, "engine exited with code 1"));
                break;
        }
    }

    private static RunStateChange Change(Run run, RunState? from, RunState to, long at, string? actor, string reason) =>
        new() { RunId = run.RunId, FromState = from?.ToWes(), ToState = to.ToWes(), At = at, Actor = actor, Reason = reason };
}
