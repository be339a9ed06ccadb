using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution.Engines;
using Wes.Persistence;
using Wes.Providers;
using Wes.Runs;

namespace Wes.Execution;

/// <summary>
/// One worker iteration: claim, move state only from the expected state, run, record once. A heartbeat renews the
/// lease while the engine runs and notices a cancel made by another process.
/// </summary>
public sealed class RunExecutor(
    RunStore store, IEnumerable<IExecutionProvider> providers, EngineCatalog catalog, RunCancellations cancellations,
    RunRetryPolicy retryPolicy, RunSignal signal, ExecutorIdentity identity, IOptions<WesOptions> options, TimeProvider clock,
    ILogger<RunExecutor> logger)
{
    private readonly Dictionary<string, IExecutionProvider> _providers =
        providers.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    private TimeSpan Lease => TimeSpan.FromSeconds(options.Value.LeaseSeconds);

    /// <summary>Claims and executes one queued run; false when the queue was empty.</summary>
    public async Task<bool> ExecuteNextAsync(CancellationToken cancellationToken)
    {
        // 1. Claim: QUEUED -> INITIALIZING under our lease, atomically; nobody else can now start it.
        var run = await store.TryClaimNextAsync(identity.Id, Lease, cancellationToken);
        if (run is null)
        {
            return false;
        }

        var stopSwitch = cancellations.Register(run.RunId);
        try
        {
            await ExecuteClaimedAsync(run, stopSwitch);
        }
        finally
        {
            cancellations.Unregister(run.RunId);
        }

        return true;
    }

    private async Task ExecuteClaimedAsync(Run run, RunStopSwitch stopSwitch)
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
        var engine = catalog.Registered.FirstOrDefault(e => string.Equals(e.Name, run.Engine, StringComparison.OrdinalIgnoreCase));
        if (!_providers.TryGetValue(run.Provider, out var provider) || engine is null)
        {
            await FinishAsync(run, RunState.Initializing, RunState.SystemError, new TransitionChanges
            {
                SystemLog = $"This server has no provider '{run.Provider}' or engine '{run.Engine}'.",
            }, "unknown provider or engine");
            return;
        }

        var state = RunState.Initializing;
        string? commandJson = null;
        var request = new ExecutionRequest(run, workspace, engine, EngineParameterNames.FromRequest(run.RequestJson, engine),
            async (pid, command) =>
            {
                // 2. The engine is up: INITIALIZING -> RUNNING. A cancel that came in meanwhile wins.
                commandJson = JsonSerializer.Serialize(command);
                var changes = new TransitionChanges { EnginePid = pid, CmdJson = commandJson, RequireLeaseOwner = identity.Id };
                if (await store.TransitionAsync(run.RunId, RunState.Initializing, RunState.Running, changes, identity.Id,
                        "engine started", CancellationToken.None) == TransitionOutcome.Changed)
                {
                    state = RunState.Running;
                }
                else
                {
                    stopSwitch.Stop(StopReason.CancelRequested);
                }
            });

        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(run.RunId, request, provider, stopSwitch, heartbeatStop.Token);
        ExecutionResult result;
        try
        {
            // 3. Run: the provider returns only once the engine and everything it started are gone.
            result = await provider.ExecuteAsync(request, stopSwitch.Token);
        }
        catch (OperationCanceledException) when (stopSwitch.Token.IsCancellationRequested)
        {
            // Stopped while preparing (e.g. during a download): nothing was started, so nothing is left running.
            result = new ExecutionResult(ExecutionOutcome.Stopped);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogError(ex, "Provider {Provider} failed on run {RunId}", provider.Name, run.RunId);
            result = new ExecutionResult(ExecutionOutcome.SystemError, Message: $"Provider {provider.Name} failed: {ex.Message}");
        }
        finally
        {
            await heartbeatStop.CancelAsync();
            await heartbeat;
        }

        // 4. Record once: tasks first, then the one conditional state change that reports the outcome.
        await RecordTasksAsync(run, request, provider, result, commandJson);
        await RecordOutcomeAsync(run, state, result, stopSwitch.Reason);
    }

    private async Task RecordOutcomeAsync(Run run, RunState state, ExecutionResult result, StopReason stopReason)
    {
        switch (result.Outcome)
        {
            case ExecutionOutcome.Stopped when stopReason == StopReason.Shutdown:
                await FinishAsync(run, state, RunState.Queued, new TransitionChanges
                {
                    SystemLog = $"Attempt {run.Attempt}: executor {identity.Id} shut down before the run finished; re-queued (not counted as an attempt).",
                    UncountAttempt = true,
                }, "executor shut down");
                break;
            case ExecutionOutcome.Stopped when stopReason == StopReason.LeaseLost:
                // Fenced: another executor owns the run now, so this one records nothing.
                logger.LogWarning("Run {RunId}: lease lost; the engine was stopped and the run left to its new owner", run.RunId);
                break;
            case ExecutionOutcome.Stopped:
                await store.TransitionAsync(run.RunId, RunState.Canceling, RunState.Canceled, new TransitionChanges { ExitCode = result.ExitCode },
                    identity.Id, "engine stopped after cancel", CancellationToken.None);
                break;
            case ExecutionOutcome.Succeeded:
                await FinishAsync(run, state, RunState.Complete, Changes(result), "engine exited 0");
                break;
            case ExecutionOutcome.Failed:
                await FailAsync(run, state, RunState.ExecutorError, result, $"engine exited {result.ExitCode}");
                break;
            default:
                await FailAsync(run, state, RunState.SystemError, result, "system error");
                break;
        }
    }

    /// <summary>Ends the run in <paramref name="outcome"/>, or, while the retry policy allows, queues it again after a back-off.</summary>
    private async Task FailAsync(Run run, RunState state, RunState outcome, ExecutionResult result, string reason)
    {
        if (retryPolicy.NextDelay(run, outcome) is not { } delay)
        {
            await FinishAsync(run, state, outcome, Changes(result), reason);
            return;
        }

        var summary = $"Attempt {run.Attempt} ended {outcome.ToWes()}" + (result.ExitCode is { } code ? $" (exit code {code})" : "") +
            (result.Message is null ? "" : $": {result.Message}") +
            $"; retrying as attempt {run.Attempt + 1} of {options.Value.MaxAttempts} in {delay.TotalSeconds:0.0} s.";
        var notBefore = clock.GetUtcNow().Add(delay).ToUnixTimeMilliseconds();
        await FinishAsync(run, state, RunState.Queued, new TransitionChanges
        {
            ExitCode = result.ExitCode, SystemLog = summary, ErrorMessage = result.Message, NotBefore = notBefore,
        }, $"retry after {reason}");
        // Wake a worker here when the back-off ends; executors elsewhere find it at their next poll.
        _ = Task.Delay(delay, clock, CancellationToken.None).ContinueWith(_ => signal.Notify(), TaskScheduler.Default);
    }

    private static TransitionChanges Changes(ExecutionResult result) => new()
    {
        ExitCode = result.ExitCode,
        OutputsJson = result.Outputs?.ToJsonString(),
        SystemLog = result.Message,
        ErrorMessage = result.Outcome == ExecutionOutcome.Succeeded ? null : result.Message,
    };

    /// <summary>
    /// Ends the run from the state we left it in. If a cancel moved it to CANCELING meanwhile, the engine is already
    /// gone, so the run becomes CANCELED: a late engine exit never overwrites a cancel.
    /// </summary>
    private async Task FinishAsync(Run run, RunState from, RunState to, TransitionChanges changes, string reason)
    {
        var fenced = changes with { RequireLeaseOwner = identity.Id };
        if (await store.TransitionAsync(run.RunId, from, to, fenced, identity.Id, reason, CancellationToken.None) == TransitionOutcome.Changed)
        {
            return;
        }

        var current = await store.GetStateAsync(run.RunId, CancellationToken.None);
        if (current == RunState.Canceling)
        {
            await store.TransitionAsync(run.RunId, RunState.Canceling, RunState.Canceled,
                new TransitionChanges { ExitCode = changes.ExitCode, RequireLeaseOwner = identity.Id },
                identity.Id, $"canceled ({reason} after the cancel request)", CancellationToken.None);
        }
        else
        {
            logger.LogWarning("Run {RunId}: could not record {To}; it is {Current} and no longer ours", run.RunId, to.ToWes(), current?.ToWes());
        }
    }

    private async Task HeartbeatAsync(
        string runId, ExecutionRequest request, IExecutionProvider provider, RunStopSwitch stopSwitch, CancellationToken stop)
    {
        var interval = TimeSpan.FromSeconds(Math.Min(2, options.Value.LeaseSeconds / 4));
        using var timer = new PeriodicTimer(interval, clock);
        var recorded = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await BeatAsync(runId, request, provider, stopSwitch, recorded, stop);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    /// <param name="recorded">Each task as last written, so a beat writes only what changed since the one before.</param>
    private async Task BeatAsync(
        string runId, ExecutionRequest request, IExecutionProvider provider, RunStopSwitch stopSwitch,
        Dictionary<string, string> recorded, CancellationToken stop)
    {
        try
        {
            var state = await store.RenewLeaseAsync(runId, identity.Id, Lease, stop);
            if (state is null)
            {
                stopSwitch.Stop(StopReason.LeaseLost);
            }
            else if (state == RunState.Canceling)
            {
                // Canceled through another process (or a missed in-process signal).
                stopSwitch.Stop(StopReason.CancelRequested);
            }

            var changed = provider.ReadTasks(request)
                .Select(task => (Task: task, Written: JsonSerializer.Serialize(task)))
                .Where(t => !recorded.TryGetValue(t.Task.TaskId, out var before) || before != t.Written)
                .ToList();
            await store.UpsertTasksAsync(runId, identity.Id, changed.Select(t => t.Task).ToList(), stop);
            changed.ForEach(t => recorded[t.Task.TaskId] = t.Written);
        }
        catch (Exception ex) when (ex is IOException or System.Data.Common.DbException)
        {
            // A missed beat only shortens the lease; the next beat or the final record tries again.
            logger.LogWarning(ex, "Heartbeat for run {RunId} failed", runId);
        }
    }

    private async Task RecordTasksAsync(Run run, ExecutionRequest request, IExecutionProvider provider, ExecutionResult result, string? commandJson)
    {
        var tasks = provider.ReadTasks(request);
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

        await store.UpsertTasksAsync(run.RunId, identity.Id, tasks, CancellationToken.None);
    }
}
