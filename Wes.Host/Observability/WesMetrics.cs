using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Persistence;
using Wes.Runs;

namespace Wes.Observability;

/// <summary>
/// The server's own instruments, all on the "Wes" meter. Counts are per process: each process counts the submissions
/// and state changes it committed itself, so the sum over every process is the total, with nothing counted twice.
/// </summary>
public sealed class WesMetrics : IHostedService, IDisposable
{
    public const string MeterName = "Wes";

    // From a few seconds in the queue to a day-long workflow.
    private static readonly double[] PickupBuckets = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];
    private static readonly double[] DurationBuckets = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400];

    private readonly RunEvents _events;
    private readonly RunCancellations _running;
    private readonly int _workers;
    private readonly Counter<long> _submitted;
    private readonly Counter<long> _finished;
    private readonly Histogram<double> _pickup;
    private readonly Histogram<double> _duration;

    public WesMetrics(IMeterFactory meters, RunEvents events, RunStateGauge states, RunCancellations running, IOptions<WesOptions> options)
    {
        _events = events;
        _running = running;
        _workers = options.Value.MaxConcurrentRuns;
        var meter = meters.Create(MeterName);
        _submitted = meter.CreateCounter<long>("wes_runs_submitted_total", description: "Runs submitted and committed to the database by this process.");
        _finished = meter.CreateCounter<long>("wes_runs_finished_total",
            description: "Runs this process moved to a terminal state, by state and engine.");
        _pickup = meter.CreateHistogram("wes_run_pickup_seconds", "s",
            "Seconds from a run's last QUEUED to its start (INITIALIZING -> RUNNING), retry back-off included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = PickupBuckets });
        _duration = meter.CreateHistogram("wes_run_duration_seconds", "s",
            "Seconds from a run's first start to its terminal state, by state and engine.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        meter.CreateObservableGauge("wes_runs", states.Observe, description: "Runs per state in the database (all processes), refreshed every few seconds.");
        meter.CreateObservableGauge("wes_executor_workers", ObserveWorkers, description: "This process's executor workers, busy or idle.");
        events.RunsSubmitted += OnRunsSubmitted;
        events.RunStarted += OnRunStarted;
        events.RunFinished += OnRunFinished;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _events.RunsSubmitted -= OnRunsSubmitted;
        _events.RunStarted -= OnRunStarted;
        _events.RunFinished -= OnRunFinished;
    }

    private void OnRunsSubmitted(int count)
    {
        if (count > 0)
        {
            _submitted.Add(count);
        }
    }

    private void OnRunStarted(RunStarted started)
    {
        if (started.QueuedAt is { } queuedAt)
        {
            _pickup.Record(Seconds(queuedAt, started.StartedAt), new KeyValuePair<string, object?>("engine", started.Engine));
        }
    }

    private void OnRunFinished(RunFinished finished)
    {
        var state = new KeyValuePair<string, object?>("state", finished.State.ToWes());
        var engine = new KeyValuePair<string, object?>("engine", finished.Engine);
        _finished.Add(1, state, engine);
        if (finished.StartedAt is { } startedAt)
        {
            _duration.Record(Seconds(startedAt, finished.EndedAt), state, engine);
        }
    }

    private IEnumerable<Measurement<int>> ObserveWorkers()
    {
        if (_workers == 0)
        {
            return [];
        }

        // Runs followed without a worker (their work runs elsewhere) leave the workers free.
        var busy = Math.Clamp(_running.Count - _running.DetachedCount, 0, _workers);
        return
        [
            new Measurement<int>(busy, new KeyValuePair<string, object?>("status", "busy")),
            new Measurement<int>(_workers - busy, new KeyValuePair<string, object?>("status", "idle")),
        ];
    }

    private static double Seconds(long fromEpochMs, long toEpochMs) => Math.Max(0, toEpochMs - fromEpochMs) / 1000.0;
}
