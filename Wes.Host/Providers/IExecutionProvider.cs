using System.Text.Json.Nodes;
using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Runs;

namespace Wes.Providers;

/// <summary>How one execution ended. Recorded by the executor, once.</summary>
public sealed record ExecutionResult(ExecutionOutcome Outcome, int? ExitCode = null, JsonObject? Outputs = null, string? Message = null)
{
    /// <summary>
    /// False when another attempt could only do harm or cannot help, whatever the retry policy says: work the other
    /// side no longer knows (it may have finished), or work canceled there by someone else.
    /// </summary>
    public bool Retryable { get; init; } = true;
}

/// <summary>What a provider gets for one claimed run.</summary>
public sealed record ExecutionRequest(
    Run Run,
    RunWorkspace Workspace,
    IWorkflowEngine Engine,
    IReadOnlyDictionary<string, string> EngineParameters)
{
    /// <summary>Set by the executor for work that runs elsewhere; see <see cref="MarkRunningAsync"/>.</summary>
    public Func<CancellationToken, Task>? OnRunning { get; init; }

    /// <summary>
    /// A detached provider calls this when the work really begins (a batch job leaves the queue, a remote run starts):
    /// until then the run shows INITIALIZING with its handle recorded. Calling it again does nothing.
    /// </summary>
    public Task MarkRunningAsync(CancellationToken cancellationToken) => OnRunning?.Invoke(cancellationToken) ?? Task.CompletedTask;
}

/// <summary>
/// The command a prepared run will execute (recorded as the run's cmd), and what is actually started when that
/// differs (the engine inside a sandbox).
/// </summary>
public sealed record PreparedWork(IReadOnlyList<string> Command, IReadOnlyList<string>? Launch = null);

/// <summary>A run could not be prepared (an engine missing, a workflow that cannot be fetched, an unwritable folder).</summary>
public sealed class PreparationException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>False when trying again could only repeat the failure or do harm (see <see cref="ExecutionResult.Retryable"/>).</summary>
    public bool Retryable { get; init; } = true;
}

/// <summary>
/// Where runs execute: real engines on this host (Local) or a deterministic stand-in (Mock). A run goes through
/// three steps, each its own call, so the executor records what happened between them and can follow work it did not
/// start itself: prepare the run directory, start the work (answering a durable handle), follow it to its end.
/// </summary>
public interface IExecutionProvider
{
    string Name { get; }

    /// <summary>The engines this provider can run right now, with their versions.</summary>
    Task<IReadOnlyList<AvailableEngine>> GetEnginesAsync(CancellationToken cancellationToken);

    /// <summary>Readies the run directory and decides the command; throws <see cref="PreparationException"/> when it cannot.</summary>
    Task<PreparedWork> PrepareAsync(ExecutionRequest request, CancellationToken cancellationToken);

    /// <summary>Starts the prepared work and answers its durable handle as soon as it runs.</summary>
    Task<string> StartAsync(ExecutionRequest request, PreparedWork work, CancellationToken cancellationToken);

    /// <summary>
    /// Follows the work <paramref name="handle"/> names until it ends. When <paramref name="stop"/> fires first, stops
    /// the work and returns (<see cref="ExecutionOutcome.Stopped"/>) only once nothing of it is left running.
    /// </summary>
    Task<ExecutionResult> FollowAsync(ExecutionRequest request, string handle, CancellationToken stop);

    /// <summary>The run's tasks as the engine reports them so far; never throws for what the workflow wrote.</summary>
    IReadOnlyList<RunTask> ReadTasks(ExecutionRequest request);

    /// <summary>
    /// An engine of this provider that the local catalog does not register (a remote's WDL engine), by the name and
    /// type a stored run names; null when the provider runs only the registered engines.
    /// </summary>
    IWorkflowEngine? FindEngine(string engineName, string workflowType) => null;

    /// <summary>Whether runs may pick this provider by tag when WES_PROVIDERS is empty (the default provider always may).</summary>
    bool OfferedByDefault => false;
}

public static class ExecutionProviders
{
    /// <summary>The tag that picks a run's provider by name; without it the run goes to DEFAULT_WES_PROVIDER.</summary>
    public const string Tag = "wes.provider";

    /// <summary>The provider new runs are submitted under (DEFAULT_WES_PROVIDER).</summary>
    public static IExecutionProvider Default(IEnumerable<IExecutionProvider> providers, Configuration.WesOptions options) =>
        providers.First(p => string.Equals(p.Name, options.DefaultProvider, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The providers a run may pick with the tag: the default, and those WES_PROVIDERS names, or when it is empty those
    /// offered by default (remotes, Slurm when on). Local and Mock are not picked by tag unless named: on a cluster
    /// or behind a remote, running on the server's own host is the operator's choice, not the user's.
    /// </summary>
    public static IReadOnlyList<IExecutionProvider> Offered(IEnumerable<IExecutionProvider> providers, Configuration.WesOptions options)
    {
        var listed = options.ProviderList;
        return providers.Where(p => string.Equals(p.Name, options.DefaultProvider, StringComparison.OrdinalIgnoreCase) ||
            (listed.Count > 0 ? listed.Contains(p.Name, StringComparer.OrdinalIgnoreCase) : p.OfferedByDefault)).ToList();
    }

    /// <summary>The provider a run's tags ask for, or the default; null when the tag names none this server has.</summary>
    public static IExecutionProvider? Choose(
        IReadOnlyCollection<IExecutionProvider> providers, IExecutionProvider defaultProvider, JsonObject? tags)
    {
        if (tags?[Tag] is not JsonValue value || !value.TryGetValue<string>(out var name) || string.IsNullOrWhiteSpace(name))
        {
            return defaultProvider;
        }

        return providers.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));
    }
}
