using System.Text.Json.Nodes;
using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Runs;

namespace Wes.Providers;

public enum ExecutionOutcome
{
    Succeeded,
    Failed,
    SystemError,
    Stopped,
}

/// <summary>How one execution ended. Recorded by the executor, once.</summary>
public sealed record ExecutionResult(ExecutionOutcome Outcome, int? ExitCode = null, JsonObject? Outputs = null, string? Message = null);

/// <summary>What a provider gets for one claimed run.</summary>
public sealed record ExecutionRequest(
    Run Run,
    RunWorkspace Workspace,
    IWorkflowEngine Engine,
    IReadOnlyDictionary<string, string> EngineParameters,
    Func<int?, IReadOnlyList<string>, Task> OnEngineStarted);

/// <summary>Where runs execute: real engines on this host (Local) or a deterministic stand-in (Mock).</summary>
public interface IExecutionProvider
{
    string Name { get; }

    /// <summary>The engines this provider can run right now, with their versions.</summary>
    Task<IReadOnlyList<AvailableEngine>> GetEnginesAsync(CancellationToken cancellationToken);

    /// <summary>Runs to the end or until <paramref name="stop"/> fires, and then only returns once nothing is left running.</summary>
    Task<ExecutionResult> ExecuteAsync(ExecutionRequest request, CancellationToken stop);

    /// <summary>The run's tasks as the engine reports them so far.</summary>
    IReadOnlyList<RunTask> ReadTasks(ExecutionRequest request);
}

public static class ExecutionProviders
{
    /// <summary>The provider new runs are submitted under (DEFAULT_WES_PROVIDER).</summary>
    public static IExecutionProvider Default(IEnumerable<IExecutionProvider> providers, Configuration.WesOptions options) =>
        providers.First(p => string.Equals(p.Name, options.DefaultProvider, StringComparison.OrdinalIgnoreCase));
}
