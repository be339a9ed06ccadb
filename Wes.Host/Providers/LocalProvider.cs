using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Runs;

namespace Wes.Providers;

/// <summary>Runs real engines as child processes on this host, each in the run's own directory.</summary>
public sealed class LocalProvider(
    EngineCatalog catalog, WorkflowFetcher fetcher, IOptions<WesOptions> options, ILogger<LocalProvider> logger)
    : IExecutionProvider
{
    public string Name => "Local";

    public Task<IReadOnlyList<AvailableEngine>> GetEnginesAsync(CancellationToken cancellationToken) =>
        catalog.GetAvailableAsync(cancellationToken);

    public async Task<ExecutionResult> ExecuteAsync(ExecutionRequest request, CancellationToken stop)
    {
        var engine = request.Engine;
        var available = (await catalog.GetAvailableAsync(stop)).FirstOrDefault(e => e.Engine == engine);
        if (available is not null && !File.Exists(available.ExecutablePath))
        {
            // Uninstalled since it was found: the catalog looks for it again next time.
            catalog.Forget(engine);
            available = null;
        }

        if (available is null)
        {
            return new ExecutionResult(ExecutionOutcome.SystemError,
                Message: $"{engine.Executable} not found on PATH; {engine.InstallHint}, then resubmit the run.");
        }

        var workspace = request.Workspace;
        string workflowPath;
        try
        {
            Directory.CreateDirectory(workspace.OutputsDir);
            Directory.CreateDirectory(workspace.TmpDir);
            Directory.CreateDirectory(workspace.EngineDir);
            var submitted = JsonNode.Parse(await File.ReadAllTextAsync(workspace.RequestPath, stop))!.AsObject();
            var workflowParams = engine.PrepareParams(submitted["workflow_params"] as JsonObject ?? [], workspace);
            // An earlier attempt's workflow may have left a link where the params file goes; it is replaced, not written through.
            await SafeFiles.WriteTextAsync(workspace.ParamsPath, workflowParams.ToJsonString(), stop);
            await engine.WriteSupportFilesAsync(workspace, stop);
            workflowPath = await ResolveWorkflowAsync(request.Run.WorkflowUrl, workspace, stop);
        }
        catch (WorkflowFetchException ex)
        {
            return new ExecutionResult(ExecutionOutcome.SystemError, Message: ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            logger.LogWarning(ex, "Run {RunId} could not be prepared", request.Run.RunId);
            return new ExecutionResult(ExecutionOutcome.SystemError, Message: $"Could not prepare run directory {workspace.Root}: {ex.Message}");
        }

        var arguments = engine.BuildArguments(new EngineInvocation(workspace, workflowPath, request.EngineParameters));
        ProcessOutcome outcome;
        try
        {
            outcome = await EngineProcess.RunAsync(
                available.ExecutablePath, arguments, workspace.ExeDir, workspace.StdoutPath, workspace.StderrPath,
                pid => request.OnEngineStarted(pid, [available.ExecutablePath, .. arguments]),
                TimeSpan.FromSeconds(options.Value.KillGraceSeconds), stop);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new ExecutionResult(ExecutionOutcome.SystemError, Message: $"Could not start {available.ExecutablePath}: {ex.Message}");
        }

        if (outcome.Killed)
        {
            return new ExecutionResult(ExecutionOutcome.Stopped, outcome.ExitCode);
        }

        var outputs = CollectOutputs(engine, workspace, request.Run.RunId);
        return outcome.ExitCode == 0
            ? new ExecutionResult(ExecutionOutcome.Succeeded, 0, outputs ?? [],
                outputs is null ? $"{engine.Name} exited 0 but reported no outputs object; outputs are empty." : null)
            : new ExecutionResult(ExecutionOutcome.Failed, outcome.ExitCode, outputs,
                $"{engine.Name} exited with code {outcome.ExitCode}; see the run's stderr log.");
    }

    public IReadOnlyList<RunTask> ReadTasks(ExecutionRequest request) => request.Engine.ReadTasks(request.Workspace);

    private JsonObject? CollectOutputs(IWorkflowEngine engine, RunWorkspace workspace, string runId)
    {
        try
        {
            return engine.CollectOutputs(workspace);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
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
