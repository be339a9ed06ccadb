using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Runs;

namespace Wes.Providers;

/// <summary>
/// Runs real engines as child processes on this host, each in the run's own directory. The handle is the engine's
/// process id with its start time; its logs go straight to files, and its end is its exit.
/// </summary>
public sealed class LocalProvider(
    EngineCatalog catalog, WorkflowFetcher fetcher, Execution.Sandbox.EngineSandbox sandbox, Slurm.SlurmClientFiles slurmClientFiles,
    IOptions<WesOptions> options, ILogger<LocalProvider> logger)
    : IExecutionProvider
{
    // One reader per execution, so a growing log is read once, not again at every look; gone with the request.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<ExecutionRequest, ITaskReader> _taskReaders = [];

    public string Name => "Local";

    public Task<IReadOnlyList<AvailableEngine>> GetEnginesAsync(CancellationToken cancellationToken) =>
        catalog.GetAvailableAsync(cancellationToken);

    public async Task<PreparedWork> PrepareAsync(ExecutionRequest request, CancellationToken cancellationToken)
    {
        var engine = request.Engine;
        var available = (await catalog.GetAvailableAsync(cancellationToken)).FirstOrDefault(e => e.Engine == engine);
        if (available is not null && !File.Exists(available.ExecutablePath))
        {
            // Uninstalled since it was found: the catalog looks for it again next time.
            catalog.Forget(engine);
            available = null;
        }

        if (available is null)
        {
            throw new PreparationException($"{engine.Executable} not found on PATH; {engine.InstallHint}, then resubmit the run.");
        }

        var workspace = request.Workspace;
        try
        {
            // A submission without attachments has no folder yet: this is where it is made.
            Directory.CreateDirectory(workspace.ExeDir);
            Directory.CreateDirectory(workspace.OutputsDir);
            Directory.CreateDirectory(workspace.TmpDir);
            Directory.CreateDirectory(workspace.EngineDir);
            var submitted = JsonNode.Parse(request.Run.RequestJson)!.AsObject();
            var workflowParams = engine.PrepareParams(submitted["workflow_params"] as JsonObject ?? [], workspace);
            // An earlier attempt's workflow may have left a link where the params file goes; it is replaced, not written through.
            await SafeFiles.WriteTextAsync(workspace.ParamsPath, workflowParams.ToJsonString(), cancellationToken);
            await engine.WriteSupportFilesAsync(workspace, cancellationToken);
            var workflowPath = await ResolveWorkflowAsync(request.Run.WorkflowUrl, workspace, cancellationToken);
            var arguments = engine.BuildArguments(new EngineInvocation(workspace, workflowPath, request.EngineParameters));
            // The engine runs inside the sandbox: only its run's folders writable, the data directory out of sight,
            // and everything the workflow starts gone when the engine exits.
            sandbox.PrepareRunDirectory(workspace);
            var launch = sandbox.Wrap(available.ExecutablePath, arguments,
                new Execution.Sandbox.SandboxContext(workspace, available.ExecutablePath, options.Value.AllowedFileRootList,
                    slurmClientFiles.HiddenFrom(request.EngineParameters)));
            return new PreparedWork([available.ExecutablePath, .. arguments], launch);
        }
        catch (WorkflowFetchException ex)
        {
            throw new PreparationException(ex.Message, ex);
        }
        catch (Execution.Sandbox.SandboxUnavailableException ex)
        {
            throw new PreparationException(ex.Message, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            logger.LogWarning(ex, "Run {RunId} could not be prepared", request.Run.RunId);
            throw new PreparationException($"Could not prepare run directory {workspace.Root}: {ex.Message}", ex);
        }
    }

    public Task<string> StartAsync(ExecutionRequest request, PreparedWork work, CancellationToken cancellationToken)
    {
        var workspace = request.Workspace;
        var handle = EngineProcess.Start(work.Launch ?? work.Command, workspace.ExeDir, workspace.StdoutPath, workspace.StderrPath);
        return Task.FromResult(handle.ToString());
    }

    public async Task<ExecutionResult> FollowAsync(ExecutionRequest request, string handle, CancellationToken stop)
    {
        if (LocalProcessHandle.Parse(handle) is not { } process)
        {
            return new ExecutionResult(ExecutionOutcome.SystemError, Message: $"The run's engine handle '{handle}' is not a local process.");
        }

        int exitCode;
        try
        {
            exitCode = await EngineProcess.WaitForExitAsync(process, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return new ExecutionResult(ExecutionOutcome.Stopped, await StopAsync(process));
        }

        if (exitCode < 0)
        {
            return new ExecutionResult(ExecutionOutcome.SystemError,
                Message: "The engine process ended while no executor was watching it; its exit code is unknown.");
        }

        var engine = request.Engine;
        var outputs = CollectOutputs(engine, request.Workspace, request.Run.RunId);
        return exitCode == 0
            ? new ExecutionResult(ExecutionOutcome.Succeeded, 0, outputs ?? [],
                outputs is null ? $"{engine.Name} exited 0 but reported no outputs object; outputs are empty." : null)
            : new ExecutionResult(ExecutionOutcome.Failed, exitCode, outputs,
                $"{engine.Name} exited with code {exitCode}; see the run's stderr log.");
    }

    /// <summary>
    /// A sandboxed engine is asked first (SIGTERM to the engine inside), since signalling the sandbox itself ends
    /// everything at once; after the grace, the whole sandbox goes.
    /// </summary>
    private async Task<int> StopAsync(LocalProcessHandle process)
    {
        var grace = TimeSpan.FromSeconds(options.Value.KillGraceSeconds);
        if (sandbox.Status.State == Execution.Sandbox.SandboxState.Enabled && Execution.Sandbox.SandboxProcesses.SignalEngine(process.Pid, 15))
        {
            using var graceOver = new CancellationTokenSource(grace);
            try
            {
                return await EngineProcess.WaitForExitAsync(process, graceOver.Token);
            }
            catch (OperationCanceledException)
            {
                grace = TimeSpan.Zero;
            }
        }

        return await EngineProcess.StopAsync(process, grace);
    }

    public IReadOnlyList<RunTask> ReadTasks(ExecutionRequest request) =>
        _taskReaders.GetValue(request, r => r.Engine.OpenTaskReader(r.Workspace)).Read();

    /// <summary>The run's outputs as its engine reports them once it has ended, wherever it ran; null when there are none to report.</summary>
    public JsonObject? CollectOutputs(ExecutionRequest request) => CollectOutputs(request.Engine, request.Workspace, request.Run.RunId);

    private JsonObject? CollectOutputs(IWorkflowEngine engine, RunWorkspace workspace, string runId)
    {
        try
        {
            return engine.CollectOutputs(workspace);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException)
        {
            logger.LogWarning(ex, "Run {RunId}: could not collect the outputs", runId);
            return null;
        }
    }

    private async Task<string> ResolveWorkflowAsync(string workflowUrl, RunWorkspace workspace, CancellationToken cancellationToken)
    {
        if (Uri.TryCreate(workflowUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            return await fetcher.DownloadAsync(uri, Path.Combine(workspace.Root, "downloaded"), cancellationToken);
        }

        var path = workspace.ResolveAttachment(workflowUrl);
        return path is not null && File.Exists(path)
            ? path
            : throw new WorkflowFetchException($"workflow_url '{workflowUrl}' does not name an attached file.");
    }
}
