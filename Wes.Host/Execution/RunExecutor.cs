using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution.Engines;
using Wes.Observability;
using Wes.Persistence;
using Wes.Providers;
using Wes.Runs;

namespace Wes.Execution;

/// <summary>
/// One worker iteration: claim, prepare, start, record the start, follow, record the end once. The lease is kept by
/// the <see cref="LeaseKeeper"/> on its own thread; the run's tasks are read on a loop of their own. Neither the
/// lease nor the record of the outcome depends on anything the workflow wrote.
/// </summary>
public sealed partial class RunExecutor(
    RunStore store, IEnumerable<IExecutionProvider> providers, EngineCatalog catalog, RunCancellations cancellations,
    LeaseKeeper leases, RunRetryPolicy retryPolicy, RunSignal signal, ExecutorIdentity identity, IOptions<WesOptions> options,
    TimeProvider clock, ILogger<RunExecutor> logger)
{
    private readonly ConcurrentDictionary<string, Task> _detached = new(StringComparer.Ordinal);

    private static readonly TimeSpan ProgressGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LongestRecordDelay = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, IExecutionProvider> _providers =
        providers.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    private TimeSpan Lease => TimeSpan.FromSeconds(options.Value.LeaseSeconds);

    /// <summary>Claims and executes one queued run; false when the queue was empty.</summary>
    /// <param name="stopping">The host is shutting down: stop retrying a record the database refuses.</param>
    public async Task<bool> ExecuteNextAsync(CancellationToken stopping)
    {
        // 1. Claim: QUEUED -> INITIALIZING under our lease, atomically; nobody else can now start it.
        var run = await store.TryClaimNextAsync(identity.Id, Lease, stopping);
        if (run is null)
        {
            return false;
        }

        // Every line logged about this run, by the providers and engines too, carries its RunId, State and Engine.
        using var logScope = RunLogScope.Begin(logger, run, out var scope);
        logger.LogInformation("Run {RunId} claimed for attempt {Attempt}", run.RunId, run.Attempt);
        var stopSwitch = cancellations.Register(run.RunId);
        var hold = leases.Hold(run.RunId, stopSwitch);
        var handedOff = false;
        try
        {
            handedOff = await ExecuteClaimedAsync(run, scope, stopSwitch, hold, stopping);
        }
        finally
        {
            if (!handedOff)
            {
                hold.Dispose();
                cancellations.Unregister(run.RunId, stopSwitch);
            }
        }

        return true;
    }

    /// <summary>Executes a claimed run; true when its following was handed to the background (a detached provider's work).</summary>
    private async Task<bool> ExecuteClaimedAsync(Run run, RunLogScope scope, RunStopSwitch stopSwitch, IDisposable hold, CancellationToken stopping)
    {
        var workspace = new RunWorkspace(options.Value.RunsDir, run.RunId);
        try
        {
            // The logs of an earlier execution of this run stay readable under attempts/<n>/.
            workspace.ArchiveLogs();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Run {RunId}: could not keep the previous attempt's logs", run.RunId);
        }

        var engine = _providers.TryGetValue(run.Provider, out var provider) ? EngineOf(run, provider) : null;
        if (provider is null || engine is null)
        {
            var unknown = new ExecutionResult(ExecutionOutcome.SystemError, Message: $"This server has no provider '{run.Provider}' or engine '{run.Engine}'.");
            await RecordOutcomeAsync(run, RunState.Initializing, unknown, StopReason.None, stopping);
            return false;
        }

        var request = RequestFor(run, workspace, engine);
        var state = RunState.Initializing;
        string? commandJson = null;
        string handle;
        try
        {
            // 2. Prepare the run directory and the command.
            var work = await provider.PrepareAsync(request, stopSwitch.Token);
            commandJson = JsonSerializer.Serialize(work.Command);

            // 3. Start, then record the handle with INITIALIZING -> RUNNING. A cancel that came in meanwhile wins, and
            //    the work is then stopped by following it with the switch already thrown.
            handle = await provider.StartAsync(request, work, CancellationToken.None);
            if (provider is IDetachedProvider detached)
            {
                // Work elsewhere keeps INITIALIZING (with its handle) until it really runs there; this worker is free
                // for the next run while it is followed.
                if (await RecordHandleAsync(run, handle, commandJson, provider, stopSwitch, stopping))
                {
                    FollowInBackground(run, request, detached, handle, commandJson, RunState.Initializing, stopSwitch, hold, stopping);
                    return true;
                }
            }
            else if (await RecordStartAsync(run, handle, commandJson, stopSwitch, stopping))
            {
                state = scope.State = RunState.Running;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var failed = Failure(provider, run, stopSwitch.Token, ex);
            await RecordEndAsync(run, request, provider, state, failed, commandJson, stopSwitch, scope, stopping);
            return false;
        }

        // 4. Follow to the end: the provider returns only once the work and everything it started are gone.
        ExecutionResult result;
        try
        {
            result = await WithProgressAsync(request, provider, () => provider.FollowAsync(request, handle, stopSwitch.Token));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            result = Failure(provider, run, stopSwitch.Token, ex);
        }

        await RecordEndAsync(run, request, provider, state, result, commandJson, stopSwitch, scope, stopping);
        return false;
    }

    /// <summary>Follows the work to its end while the run's tasks are read on a loop beside it.</summary>
    private async Task<ExecutionResult> WithProgressAsync(ExecutionRequest request, IExecutionProvider provider, Func<Task<ExecutionResult>> follow)
    {
        using var progressStop = new CancellationTokenSource();
        var progress = Task.Run(() => FollowProgressAsync(request, provider, progressStop.Token), CancellationToken.None);
        try
        {
            return await follow();
        }
        finally
        {
            await progressStop.CancelAsync();
            // A reader stuck on something the workflow left is abandoned, never waited for.
            await progress.WaitAsync(ProgressGrace, CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static ExecutionRequest RequestFor(Run run, RunWorkspace workspace, IWorkflowEngine engine) =>
        new(run, workspace, engine, EngineParameterNames.FromRequest(run.RequestJson, engine));

    /// <summary>The engine a stored run names: the provider's own (a remote's) first, else the registered one.</summary>
    private IWorkflowEngine? EngineOf(Run run, IExecutionProvider provider) =>
        provider.FindEngine(run.Engine, run.WorkflowType)
        ?? catalog.Registered.FirstOrDefault(e => string.Equals(e.Name, run.Engine, StringComparison.OrdinalIgnoreCase));

    private ExecutionResult Failure(IExecutionProvider provider, Run run, CancellationToken stop, Exception ex)
    {
        switch (ex)
        {
            case PreparationException preparation:
                return new ExecutionResult(ExecutionOutcome.SystemError, Message: ex.Message) { Retryable = preparation.Retryable };
            case OperationCanceledException when stop.IsCancellationRequested:
                // Stopped while preparing (e.g. during a download), or while following: nothing is left running.
                return new ExecutionResult(ExecutionOutcome.Stopped);
            default:
                logger.LogError(ex, "Provider {Provider} failed on run {RunId}", provider.Name, run.RunId);
                return new ExecutionResult(ExecutionOutcome.SystemError, Message: $"Provider {provider.Name} failed: {ex.Message}");
        }
    }

    /// <summary>5. Records once: tasks first, then the one conditional state change that reports the outcome; then 6. scratch.</summary>
    private async Task RecordEndAsync(
        Run run, ExecutionRequest request, IExecutionProvider provider, RunState state, ExecutionResult result, string? commandJson,
        RunStopSwitch stopSwitch, RunLogScope scope, CancellationToken stopping)
    {
        await RecordTasksAsync(run, request, provider, result, commandJson);
        var recorded = await RecordOutcomeAsync(run, state, result, stopSwitch.Reason, stopping);
        if (recorded is not null)
        {
            scope.State = recorded.Value;
            logger.LogInformation("Run {RunId} recorded {State}", run.RunId, recorded.Value.ToWes());
        }

        // Scratch and engine caches go once the run has ended for good; a retry of it would still want them.
        await RemoveScratchIfEndedAsync(run.RunId, recorded, request.Workspace, stopping);
    }

    private async Task RemoveScratchIfEndedAsync(string runId, RunState? recorded, RunWorkspace workspace, CancellationToken stopping)
    {
        try
        {
            // The state this worker recorded answers without a query; only when it recorded none (another writer won) is it read.
            var state = recorded ?? await store.GetStateAsync(runId, stopping);
            if (state?.IsTerminal() == true)
            {
                RunFileRemoval.RemoveScratch(workspace);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException or OperationCanceledException)
        {
            // The outcome is recorded already; what is left stays until the retention sweep (if set) removes it.
            logger.LogWarning(ex, "Run {RunId}: could not remove its scratch files", runId);
        }
    }

    /// <summary>INITIALIZING -> RUNNING with the work's handle; false (and the switch thrown) when the run is no longer ours to run.</summary>
    private async Task<bool> RecordStartAsync(Run run, string handle, string commandJson, RunStopSwitch stopSwitch, CancellationToken stopping)
    {
        var changes = new TransitionChanges
        {
            ProviderHandle = handle, EnginePid = LocalProcessHandle.Parse(handle)?.Pid, CmdJson = commandJson,
        };
        var outcome = await DurablyAsync(run.RunId, "record the start", ct =>
            WriteAsync(run.RunId, RunState.Initializing, RunState.Running, changes, "engine started", ct), stopping);
        return outcome == TransitionOutcome.Changed || await StopIfNotOursAsync(run, stopSwitch, stopping);
    }

    /// <summary>
    /// Records the handle of work that runs elsewhere while the run stays INITIALIZING, named in system_logs where
    /// users look for it; false (and the switch thrown) when the run is no longer ours to run.
    /// </summary>
    private async Task<bool> RecordHandleAsync(Run run, string handle, string commandJson, IExecutionProvider provider, RunStopSwitch stopSwitch, CancellationToken stopping)
    {
        var systemLog = $"{provider.Name} runs this run's work as {handle}.";
        var recorded = await DurablyAsync(run.RunId, "record the handle", ct =>
            store.RecordHandleAsync(run.RunId, identity.Id, handle, commandJson, systemLog, ct), stopping);
        return recorded || await StopIfNotOursAsync(run, stopSwitch, stopping);
    }

    /// <summary>The start could not be recorded: the run was canceled meanwhile, or is no longer ours. Always false.</summary>
    private async Task<bool> StopIfNotOursAsync(Run run, RunStopSwitch stopSwitch, CancellationToken stopping)
    {
        var current = await DurablyAsync(run.RunId, "read the state", ct => store.GetStateAsync(run.RunId, ct), stopping);
        stopSwitch.Stop(current == RunState.Canceling ? StopReason.CancelRequested : StopReason.LeaseLost);
        return false;
    }

    /// <summary>Records how the execution ended; answers the state recorded, or null when the run was no longer ours.</summary>
    private async Task<RunState?> RecordOutcomeAsync(Run run, RunState state, ExecutionResult result, StopReason stopReason, CancellationToken stopping)
    {
        var decision = RunDecisions.AfterExecution(
            result.Outcome, stopReason, result.ExitCode, outcome => retryPolicy.NextDelay(run, outcome), result.Retryable);
        if (!decision.Record)
        {
            logger.LogWarning("Run {RunId}: lease lost; the engine was stopped and the run left to its new owner", run.RunId);
            return null;
        }

        var changes = decision switch
        {
            { To: RunState.Queued, CountsAsAttempt: false } => new TransitionChanges
            {
                SystemLog = $"Attempt {run.Attempt}: executor {identity.Id} shut down before the run finished; re-queued (not counted as an attempt).",
                UncountAttempt = true,
            },
            { To: RunState.Queued, RetryAfter: { } delay } => RetryChanges(run, result, delay),
            { To: RunState.Canceled } => new TransitionChanges { ExitCode = result.ExitCode },
            _ => new TransitionChanges
            {
                ExitCode = result.ExitCode,
                OutputsJson = result.Outputs?.ToJsonString(),
                SystemLog = result.Message,
                ErrorMessage = result.Outcome == ExecutionOutcome.Succeeded ? null : result.Message,
            },
        };

        // A stopped engine after a cancel is recorded from CANCELING, where the cancel put the run.
        var from = decision.To == RunState.Canceled ? RunState.Canceling : state;
        var recorded = await FinishAsync(run, from, decision.To, changes, decision.Reason, stopping);
        if (recorded == RunState.Queued && decision.RetryAfter is { } wait)
        {
            // Wake a worker here when the back-off ends; executors elsewhere find it at their next poll.
            _ = Task.Delay(wait, clock, CancellationToken.None).ContinueWith(_ => signal.Notify(), TaskScheduler.Default);
        }

        return recorded;
    }

    private TransitionChanges RetryChanges(Run run, ExecutionResult result, TimeSpan delay)
    {
        var outcome = result.Outcome == ExecutionOutcome.Failed ? RunState.ExecutorError : RunState.SystemError;
        var summary = $"Attempt {run.Attempt} ended {outcome.ToWes()}" + (result.ExitCode is { } code ? $" (exit code {code})" : "") +
            (result.Message is null ? "" : $": {result.Message}") +
            $"; retrying as attempt {run.Attempt + 1} of {options.Value.MaxAttempts} in {delay.TotalSeconds:0.0} s.";
        return new TransitionChanges
        {
            ExitCode = result.ExitCode, SystemLog = summary, ErrorMessage = result.Message,
            NotBefore = clock.GetUtcNow().Add(delay).ToUnixTimeMilliseconds(),
        };
    }

    /// <summary>
    /// Ends the run from the state we left it in. If a cancel moved it to CANCELING meanwhile, the engine is already
    /// gone, so the run becomes CANCELED: a late engine exit never overwrites a cancel.
    /// </summary>
    private async Task<RunState?> FinishAsync(Run run, RunState from, RunState to, TransitionChanges changes, string reason, CancellationToken stopping)
    {
        if (await DurablyAsync(run.RunId, $"record {to.ToWes()}", ct => WriteAsync(run.RunId, from, to, changes, reason, ct), stopping) == TransitionOutcome.Changed)
        {
            return to;
        }

        var current = await DurablyAsync(run.RunId, "read the state", ct => store.GetStateAsync(run.RunId, ct), stopping);
        if (current == RunState.Canceling && from != RunState.Canceling)
        {
            return await DurablyAsync(run.RunId, "record CANCELED", ct => WriteAsync(run.RunId, RunState.Canceling, RunState.Canceled,
                new TransitionChanges { ExitCode = changes.ExitCode }, $"canceled ({reason} after the cancel request)", ct), stopping) == TransitionOutcome.Changed
                ? RunState.Canceled
                : null;
        }

        logger.LogWarning("Run {RunId}: could not record {To}; it is {Current} and no longer ours", run.RunId, to.ToWes(), current?.ToWes());
        return null;
    }

    /// <summary>The one path of every executor write about a run: fenced, so it happens only while this executor holds the lease.</summary>
    private Task<TransitionOutcome> WriteAsync(string runId, RunState from, RunState to, TransitionChanges changes, string reason, CancellationToken ct) =>
        store.TransitionAsync(runId, from, to, changes with { RequireLeaseOwner = identity.Id }, identity.Id, reason, ct);

    /// <summary>
    /// Repeats a database call until it goes through: a full disk or an unwritable database must not leave a run
    /// RUNNING until a restart, so once the fault clears the record is made. Only shutdown ends the wait (the run is
    /// then settled by reconciliation, like that of any executor that went away).
    /// </summary>
    private async Task<T> DurablyAsync<T>(string runId, string what, Func<CancellationToken, Task<T>> write, CancellationToken stopping)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await write(CancellationToken.None);
            }
            catch (Exception ex) when (StorageFaults.MayClear(ex) && !stopping.IsCancellationRequested)
            {
                if (attempt == 1 || attempt % 20 == 0)
                {
                    logger.LogError(ex, "Run {RunId}: could not {What} (attempt {Attempt}); trying again until the database accepts it", runId, what, attempt);
                }
            }

            await Task.Delay(delay, clock, stopping);
            delay = TimeSpan.FromTicks(Math.Min(LongestRecordDelay.Ticks, delay.Ticks * 2));
        }
    }

    /// <summary>Reads the engine's tasks every few seconds and writes those that changed; nothing it meets stops the run.</summary>
    private async Task FollowProgressAsync(ExecutionRequest request, IExecutionProvider provider, CancellationToken stop)
    {
        // Tasks are read at the lease's cadence: often enough to show progress, rarely enough to cost nothing.
        using var timer = new PeriodicTimer(leases.Interval, clock);
        var recorded = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var changed = ReadTasks(request, provider)
                    .Select(task => (Task: task, Written: JsonSerializer.Serialize(task)))
                    .Where(t => !recorded.TryGetValue(t.Task.TaskId, out var before) || before != t.Written)
                    .ToList();
                await store.UpsertTasksAsync(request.Run.RunId, identity.Id, changed.Select(t => t.Task).ToList(), stop);
                changed.ForEach(t => recorded[t.Task.TaskId] = t.Written);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
        catch (Exception ex)
        {
            // Tasks are reported again at the end; the run itself goes on.
            logger.LogWarning(ex, "Run {RunId}: reading its tasks failed; they are read again when it ends", request.Run.RunId);
        }
    }

    private IReadOnlyList<RunTask> ReadTasks(ExecutionRequest request, IExecutionProvider provider)
    {
        try
        {
            return provider.ReadTasks(request);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogWarning(ex, "Run {RunId}: the engine's task records could not be read", request.Run.RunId);
            return [];
        }
    }

    private async Task RecordTasksAsync(Run run, ExecutionRequest request, IExecutionProvider provider, ExecutionResult result, string? commandJson)
    {
        var tasks = ReadTasks(request, provider);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (result.Outcome != ExecutionOutcome.Succeeded)
        {
            // A step the engine never reported finished was cut short with it.
            foreach (var open in tasks.Where(t => t.EndTime is null))
            {
                open.EndTime = now;
                open.SystemLogsJson = new JsonArray($"stopped before it finished: the run ended {result.Outcome}").ToJsonString();
            }
        }

        if (tasks.Count == 0 && commandJson is not null)
        {
            // The engine reported no steps: the engine process itself is the one task.
            tasks =
            [
                new RunTask
                {
                    TaskId = "engine", Name = $"{run.Engine} {run.WorkflowUrl}", CmdJson = commandJson,
                    StartTime = run.StartedAt, EndTime = now,
                    ExitCode = result.ExitCode,
                    SystemLogsJson = result.Message is null ? null : new JsonArray(result.Message).ToJsonString(),
                },
            ];
        }

        try
        {
            await store.UpsertTasksAsync(run.RunId, identity.Id, tasks, CancellationToken.None);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
        {
            logger.LogWarning(ex, "Run {RunId}: its tasks could not be recorded", run.RunId);
        }
    }
}
