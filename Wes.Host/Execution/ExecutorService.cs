using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Execution;

/// <summary>
/// The in-process executor pool: WES_MAX_CONCURRENT_RUNS workers that claim queued runs when signalled or on every
/// poll. On SIGTERM it stops claiming, lets runs in flight finish for WES_SHUTDOWN_GRACE seconds, then stops their
/// engines and hands the runs back to the queue.
/// </summary>
public sealed class ExecutorService(
    RunExecutor executor, Reconciler reconciler, RunSignal signal, RunCancellations cancellations,
    Engines.EngineCatalog catalog, Persistence.RunStore store, Persistence.RunEvents events, ExecutorIdentity identity,
    ExecutorPulse pulse, Persistence.DiskGuard disk, TimeProvider clock, IOptions<WesOptions> options, ILogger<ExecutorService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Submissions and cancels committed in this process reach the workers at once, through the store.
        events.RunQueued += OnRunQueued;
        events.CancelRequested += OnCancelRequested;
        try
        {
            await RunPoolAsync(stoppingToken);
        }
        finally
        {
            events.RunQueued -= OnRunQueued;
            events.CancelRequested -= OnCancelRequested;
        }
    }

    private void OnRunQueued(string runId) => signal.Notify();

    private void OnCancelRequested(string runId) => cancellations.Stop(runId, Runs.StopReason.CancelRequested);

    private async Task RunPoolAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (string.Equals(settings.DefaultProvider, "Local", StringComparison.OrdinalIgnoreCase))
        {
            // Ask the engines for their versions now, not on the first request that needs them.
            await catalog.GetAvailableAsync(stoppingToken);
        }

        await ReconcileSafelyAsync(stoppingToken);
        logger.LogInformation("Executor pool started with {Workers} worker(s), polling every {Poll} s",
            settings.MaxConcurrentRuns, settings.PollIntervalSeconds);
        var workers = Enumerable.Range(0, settings.MaxConcurrentRuns).Select(_ => WorkerLoopAsync(stoppingToken)).ToList();
        workers.Add(ReconcileLoopAsync(stoppingToken));
        workers.Add(HeartbeatLoopAsync(stoppingToken));
        await Task.WhenAll(workers);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // base.StopAsync cancels stoppingToken (no new claims) and waits for the workers to finish their runs.
        var stopping = base.StopAsync(CancellationToken.None);
        var graceOver = Task.Delay(TimeSpan.FromSeconds(options.Value.ShutdownGraceSeconds), CancellationToken.None);
        while (await Task.WhenAny(stopping, graceOver) != stopping)
        {
            // Grace is over: stop every engine still running; each run is handed back to the queue.
            cancellations.StopAll(Runs.StopReason.Shutdown);
            graceOver = Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
        }

        await stopping;
        // Runs followed in the background let go of their leases (their work goes on) before the process ends.
        await executor.LeaveDetachedAsync().WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task WorkerLoopAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(options.Value.PollIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Drain the queue, then sleep until a submission signal or the next poll. While the data volume is
                // short of space nothing is claimed: queued runs stay QUEUED, to start once space is back.
                while (!stoppingToken.IsCancellationRequested && disk.Shortage() is null && await executor.ExecuteNextAsync(stoppingToken))
                {
                }

                await signal.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A worker never dies: log, back off one poll interval, carry on.
                logger.LogError(ex, "Executor worker iteration failed");
                await Task.Delay(poll, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task ReconcileLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(options.Value.PollIntervalSeconds, options.Value.LeaseSeconds / 2)));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (await ReconcileSafelyAsync(stoppingToken) > 0)
                {
                    signal.Notify();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    /// <summary>Tells every process sharing the database that this executor is alive and how busy it is.</summary>
    private async Task HeartbeatLoopAsync(CancellationToken stoppingToken)
    {
        var record = new Runs.ExecutorRecord
        {
            Id = identity.Id, Host = identity.Host, Pid = identity.Pid, Workers = options.Value.MaxConcurrentRuns,
            StartedAt = clock.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.LeaseSeconds / 4), clock);
        try
        {
            do
            {
                pulse.Beat();
                record.Running = cancellations.Count;
                record.LastSeenAt = clock.GetUtcNow().ToUnixTimeMilliseconds();
                await BestEffortAsync(() => store.BeatExecutorAsync(record, stoppingToken), "Executor heartbeat");
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // Shutting down: say goodbye below.
        }

        await BestEffortAsync(() => store.RemoveExecutorAsync(identity.Id, CancellationToken.None), "Executor sign-off");
    }

    private async Task BestEffortAsync(Func<Task> action, string what)
    {
        try
        {
            await action();
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
        {
            logger.LogWarning(ex, "{What} failed", what);
        }
    }

    private async Task<int> ReconcileSafelyAsync(CancellationToken stoppingToken)
    {
        try
        {
            return await reconciler.ReconcileAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Reconciling runs of lost executors failed");
            return 0;
        }
    }
}
