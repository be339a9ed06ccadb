using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Runs;

namespace Wes.Providers.Remote;

/// <summary>
/// Forwards runs to another WES server (Cromwell, Toil, Sapporo, another instance of this one) and follows them there:
/// the request, its attachments and params are posted to the remote's POST /runs; the remote run id is the handle
/// ("wes-remote:&lt;name&gt;:&lt;run id&gt;"); one poller per remote watches all of its runs; when a run ends, its logs,
/// tasks and output files are copied home.
/// </summary>
public sealed partial class RemoteWesProvider(
    string name, RemoteWesOptions options, RemoteWesClient client, IReadOnlyList<RemoteEngine> engines, TimeProvider clock, ILogger logger)
    : IDetachedProvider
{
    public const string HandlePrefix = "wes-remote:";

    /// <summary>Tags that mean something to this server only: the remote must not route or unpack the run again.</summary>
    private static readonly string[] LocalTags = [ExecutionProviders.Tag, Api.AttachmentUnpacker.Tag];

    private readonly RemoteRunPoller _poller = new(client, options, clock, logger);
    private readonly RemoteRunCollector _collector = new(client, options, logger);
    private readonly RemoteEngineVersions _versions = new(client, clock, logger);

    public string Name => name;

    public bool OfferedByDefault => true;

    public RemoteRunPoller Poller => _poller;

    public Task<IReadOnlyList<AvailableEngine>> GetEnginesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<AvailableEngine>>(engines.Select(e => new AvailableEngine(e, _versions.Of(e.Name), e.Executable)).ToArray());

    public IWorkflowEngine? FindEngine(string engineName, string workflowType) =>
        engines.FirstOrDefault(e => e.WorkflowType == workflowType && string.Equals(e.Name, engineName, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Waits until the remote answers (its service-info), trying again with back-off until TimeoutSeconds: a cancel
    /// or a shutdown ends the wait, which the start that follows cannot be interrupted by.
    /// </summary>
    public async Task<PreparedWork> PrepareAsync(ExecutionRequest request, CancellationToken cancellationToken)
    {
        // A submission without attachments has no folder until now; the copies brought home go into it.
        Directory.CreateDirectory(request.Workspace.ExeDir);
        Directory.CreateDirectory(request.Workspace.OutputsDir);
        var deadline = clock.GetUtcNow().AddSeconds(options.TimeoutSeconds);
        var delay = TimeSpan.FromSeconds(Math.Min(options.PollSeconds, 1));
        while (true)
        {
            try
            {
                _versions.Remember(await client.GetServiceInfoAsync(cancellationToken));
                return Prepared();
            }
            catch (RemoteWesException ex) when (ex.IsRefusal)
            {
                // It answers, if not to this (a service-info it does not serve, or wants another token for): the post will tell.
                return Prepared();
            }
            catch (Exception ex) when (ex is RemoteWesException or System.Text.Json.JsonException && clock.GetUtcNow() + delay < deadline)
            {
                logger.LogWarning("Run {RunId}: {Remote} does not answer yet, trying again: {Error}", request.Run.RunId, client.Describe(), ex.Message);
            }
            catch (Exception ex) when (ex is RemoteWesException or System.Text.Json.JsonException)
            {
                throw new PreparationException(
                    $"{client.Describe()} at {client.BaseUrl} did not answer within TimeoutSeconds ({options.TimeoutSeconds:0.##} s): {ex.Message}", ex);
            }

            await Task.Delay(delay, clock, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }
    }

    private PreparedWork Prepared() => new(["POST", new Uri(client.BaseUrl, "runs").AbsoluteUri]);

    /// <summary>
    /// Posts the run (nothing can interrupt this step). Once the remote has taken a post (any 2xx) it is never posted
    /// again; a post nothing took (unreachable, 5xx, 429) gets two more tries, each after looking for a run an earlier
    /// try made at the remote unseen (by its wes.forwarded_run_id tag). A refusal (4xx) is final.
    /// </summary>
    public async Task<string> StartAsync(ExecutionRequest request, PreparedWork work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var remoteRunId = attempt > 1 ? await EarlierPostAsync(request, cancellationToken) : null;
                if (remoteRunId is null)
                {
                    using var form = RemoteSubmission.Form(request, LocalTags, !string.IsNullOrWhiteSpace(options.Engines));
                    remoteRunId = await client.SubmitAsync(form, $"{request.Run.RunId}.{request.Run.Attempt}", cancellationToken);
                }

                var handle = HandlePrefix + name + ":" + remoteRunId;
                return handle.Length <= 400 && remoteRunId.All(c => c is > ' ' and <= '~')
                    ? handle
                    : throw new PreparationException($"{client.Describe()} answered a run id this server cannot store: '{Printable(remoteRunId)}'.")
                    {
                        Retryable = false,
                    };
            }
            catch (RemoteWesException ex) when (ex.Accepted)
            {
                throw new PreparationException($"{client.Describe()} took the run but {ex.Message}", ex) { Retryable = false };
            }
            catch (RemoteWesException ex) when (ex.IsRefusal)
            {
                throw new PreparationException($"{client.Describe()} refused the run: {ex.Message}", ex) { Retryable = false };
            }
            catch (RemoteWesException ex) when (attempt < 3)
            {
                logger.LogWarning("Run {RunId}: posting it to {Remote} failed, trying again: {Error}", request.Run.RunId, client.Describe(), ex.Message);
            }
            catch (RemoteWesException ex)
            {
                throw new PreparationException($"{client.Describe()} at {client.BaseUrl} did not take the run: {ex.Message}", ex);
            }
            catch (System.Text.Json.JsonException ex)
            {
                // The listing that looks for an earlier post could not be read: posting blind could run it twice.
                throw new PreparationException($"{client.Describe()} did not take the run, and its run listing could not be read: {ex.Message}", ex)
                {
                    Retryable = false,
                };
            }
            catch (IOException ex)
            {
                throw new PreparationException($"Could not read the run's attachments to forward them: {ex.Message}", ex);
            }

            await Task.Delay(TimeSpan.FromSeconds(attempt * 0.5), clock, cancellationToken);
        }
    }

    /// <summary>The remote run an earlier try made; null when none shows, or when the remote does not let its runs be listed.</summary>
    private async Task<string?> EarlierPostAsync(ExecutionRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await client.FindForwardedAsync(request.Run.RunId, cancellationToken);
        }
        catch (RemoteWesException ex) when (ex.IsRefusal)
        {
            logger.LogWarning("Run {RunId}: {Remote} does not list its runs ({Error}); posting again with the same key", request.Run.RunId, client.Describe(), ex.Message);
            return null;
        }
    }

    public async Task<ExecutionResult> FollowAsync(ExecutionRequest request, string handle, CancellationToken cancel, CancellationToken leave)
    {
        if (RemoteRunId(handle) is not { } remoteRunId)
        {
            return new ExecutionResult(ExecutionOutcome.SystemError, Message: $"The run's handle '{handle}' does not name a run at {client.Describe()}.")
            {
                Retryable = false,
            };
        }

        RemoteRunEnd end;
        using (var either = CancellationTokenSource.CreateLinkedTokenSource(cancel, leave))
        {
            try
            {
                end = await WaitShowingTasksAsync(request, remoteRunId, either.Token);
            }
            catch (OperationCanceledException) when (!leave.IsCancellationRequested && cancel.IsCancellationRequested)
            {
                return await CancelAsync(request, remoteRunId, leave);
            }
        }

        // A run the remote forgot or stopped reporting may still be running (or have finished) there: another
        // attempt would post it a second time.
        if (end.Problem is not null)
        {
            return new ExecutionResult(ExecutionOutcome.SystemError, Message: end.Problem) { Retryable = false };
        }

        var collected = await CollectAsync(request, remoteRunId, leave);
        var state = collected?.Log.State is { } reported && reported.IsTerminal() ? reported : end.State!.Value;
        var exitCode = collected?.Log.RunLog?.ExitCode;
        var notes = collected?.Notes ?? [$"The run's logs and outputs could not be brought back from {client.Describe()}."];
        var where = $"{client.Describe()} ended run {remoteRunId} {state.ToWes()}";
        return state switch
        {
            RunState.Complete => new ExecutionResult(ExecutionOutcome.Succeeded, exitCode ?? 0, collected?.Outputs ?? [], Join(notes)),
            RunState.ExecutorError => new ExecutionResult(ExecutionOutcome.Failed, exitCode ?? 1, collected?.Outputs,
                Join([$"{where}; see the run's stderr log.", .. notes])),
            // Someone canceled it at the remote: running it again would overrule them.
            _ => new ExecutionResult(ExecutionOutcome.SystemError, exitCode,
                Message: Join([where + LastLine(collected) + ".", .. notes])) { Retryable = state != RunState.Canceled },
        };
    }

    /// <summary>Waits for the remote run to end, reading its tasks now and then (not at every poll) so they show here meanwhile.</summary>
    private async Task<RemoteRunEnd> WaitShowingTasksAsync(ExecutionRequest request, string remoteRunId, CancellationToken cancellationToken)
    {
        // The run shows INITIALIZING here while it waits in the remote's queue, RUNNING once it runs there.
        var ending = _poller.WaitForEndAsync(remoteRunId, cancellationToken, request.MarkRunningAsync);
        var refresh = TimeSpan.FromSeconds(Math.Max(options.PollSeconds * 5, 5));
        while (!ending.IsCompleted && !cancellationToken.IsCancellationRequested)
        {
            await Task.WhenAny(ending, Task.Delay(refresh, clock, cancellationToken));
            if (!ending.IsCompleted && !cancellationToken.IsCancellationRequested)
            {
                await _collector.RefreshTasksAsync(request.Workspace, remoteRunId, cancellationToken);
            }
        }

        return await ending;
    }

    public IReadOnlyList<RunTask> ReadTasks(ExecutionRequest request) => RemoteRunCollector.ReadTasks(request.Workspace);

    /// <summary>The remote run id a handle names, or null when the handle is not one of this remote's.</summary>
    public string? RemoteRunId(string handle)
    {
        var prefix = HandlePrefix + name + ":";
        return handle.StartsWith(prefix, StringComparison.Ordinal) && handle.Length > prefix.Length ? handle[prefix.Length..] : null;
    }

    private async Task<CollectedRun?> CollectAsync(ExecutionRequest request, string remoteRunId, CancellationToken leave)
    {
        try
        {
            return await _collector.CollectAsync(request.Workspace, remoteRunId, leave);
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or OperationCanceledException))
        {
            // Whatever fails here becomes a note: the run has ended at the remote and is recorded as it ended.
            logger.LogWarning("Run {RunId}: could not bring its logs and outputs back from {Remote}: {Error}", request.Run.RunId, client.Describe(), ex.Message);
            return null;
        }
    }

    private static string LastLine(CollectedRun? collected) =>
        collected?.Log.RunLog?.SystemLogs is { Count: > 0 } lines ? $": {lines[^1]}" : "";

    private static string? Join(IReadOnlyList<string> lines) => lines.Count == 0 ? null : string.Join(" ", lines);

    private static string Printable(string text) => new(text.Take(80).Select(c => c is > ' ' and <= '~' ? c : '?').ToArray());
}
