using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Persistence;

namespace Wes.Execution;

/// <summary>How long an ended run keeps its files (Wes:Retention).</summary>
public sealed class RetentionOptions
{
    /// <summary>Days after its end that a run's files are removed (WES_RETENTION_DAYS); 0 keeps them for ever.</summary>
    public double Days { get; set; }

    /// <summary>Keep the run's stdout/stderr and task logs when its other files go (WES_RETENTION_KEEP_LOGS).</summary>
    public bool KeepLogs { get; set; } = true;

    /// <summary>Least time between two sweeps; the first is a minute after the executor starts.</summary>
    public double IntervalSeconds { get; set; } = 3600;

    /// <summary>Runs read from the database at a time.</summary>
    public int BatchSize { get; set; } = 200;
}

/// <summary>What one retention sweep did.</summary>
public sealed record RetentionSweep(int Removed, int Failed);

/// <summary>
/// Removes the files of runs that ended more than Wes:Retention:Days ago: working files, scratch, engine folders and
/// outputs, and the logs too unless they are kept. The run's row stays; it records when, and its system logs say so.
/// Several executors may sweep at once: removal is idempotent, and the record is a conditional update made once.
/// </summary>
public sealed class RunRetention(
    RunStore store, IOptions<WesOptions> options, TimeProvider clock, IMeterFactory meters, ILogger<RunRetention> logger)
{
    private readonly Counter<long> _swept = meters.Create("Wes").CreateCounter<long>(
        "wes_retention_runs_total", description: "Runs the retention sweep cleaned (outcome=removed) or could not clean (outcome=failed)");

    public async Task<RetentionSweep> SweepAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.Retention;
        if (settings.Days <= 0)
        {
            return new RetentionSweep(0, 0);
        }

        var endedBefore = (clock.GetUtcNow() - TimeSpan.FromDays(settings.Days)).ToUnixTimeMilliseconds();
        int removed = 0, failed = 0;
        RetentionCandidate? after = null;
        while (true)
        {
            // Paged past the last run seen, so a run whose files could not be removed does not block those after it.
            var batch = await store.FindRetentionCandidatesAsync(endedBefore, after, settings.BatchSize, cancellationToken);
            foreach (var candidate in batch.Where(candidate => candidate.HasEnded))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var done = await TryRemoveAsync(candidate.RunId, settings, cancellationToken);
                removed += done ? 1 : 0;
                failed += done ? 0 : 1;
                _swept.Add(1, new KeyValuePair<string, object?>("outcome", done ? "removed" : "failed"));
            }

            if (batch.Count < settings.BatchSize)
            {
                break;
            }

            after = batch[^1];
        }

        if (removed + failed > 0)
        {
            logger.LogInformation("Retention: removed the files of {Removed} run(s) ended over {Days} day(s) ago; {Failed} could not be removed",
                removed, settings.Days, failed);
        }

        return new RetentionSweep(removed, failed);
    }

    private async Task<bool> TryRemoveAsync(string runId, RetentionOptions settings, CancellationToken cancellationToken)
    {
        try
        {
            // Files first, record after: a crash in between leaves the run a candidate, and the next sweep finishes it.
            RunFileRemoval.RemoveRun(new RunWorkspace(options.Value.RunsDir, runId), settings.KeepLogs);
            var at = clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            var line = $"Run files removed at {at} by the retention policy ({settings.Days.ToString(CultureInfo.InvariantCulture)} days after the end); " +
                (settings.KeepLogs ? "the logs were kept." : "the logs were removed too.");
            await store.MarkFilesRemovedAsync(runId, line, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException)
        {
            // One run's trouble (a file that cannot be deleted, a database hiccup) is no reason to stop the others.
            logger.LogWarning(ex, "Retention: could not remove the files of run {RunId}; the next sweep tries again", runId);
            return false;
        }
    }
}

/// <summary>Sweeps for expired run files every Wes:Retention:IntervalSeconds, in every process that executes runs.</summary>
public sealed class RunRetentionService(RunRetention retention, IOptions<WesOptions> options, TimeProvider clock, ILogger<RunRetentionService> logger)
    : BackgroundService
{
    private static readonly TimeSpan FirstSweepDelay = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Retention;
        if (settings.Days <= 0 || options.Value.MaxConcurrentRuns == 0)
        {
            return;
        }

        try
        {
            // Start-up is busy enough (reconciliation, the engine probe); expired files can wait a minute.
            await Task.Delay(FirstSweepDelay, clock, stoppingToken);
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.IntervalSeconds), clock);
            do
            {
                try
                {
                    await retention.SweepAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Retention sweep failed; the next one tries again");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }
}
