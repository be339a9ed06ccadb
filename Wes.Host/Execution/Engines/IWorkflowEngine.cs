using System.Text.Json.Nodes;
using Wes.Runs;

namespace Wes.Execution.Engines;

/// <summary>Everything an engine needs to build its command line for one run.</summary>
/// <param name="Parameters">The run's workflow_engine_parameters, keyed by the declared parameter names.</param>
public sealed record EngineInvocation(
    RunWorkspace Workspace, string WorkflowPath, IReadOnlyDictionary<string, string> Parameters);

/// <summary>
/// One workflow engine (cwltool, toil, snakemake, nextflow), run by the Local provider as a child process. Everything
/// that differs between engines is behind this interface, so nothing else ever looks at an engine's name.
/// </summary>
public interface IWorkflowEngine
{
    /// <summary>The name clients pass as workflow_engine.</summary>
    string Name { get; }

    /// <summary>The workflow type in WES spelling, e.g. "CWL".</summary>
    string WorkflowType { get; }

    /// <summary>Other spellings clients use for the type, e.g. "Snakemake" for "SMK"; compared without case.</summary>
    IReadOnlyList<string> WorkflowTypeAliases { get; }

    /// <summary>Runs the type when a request names no workflow_engine (and this engine is installed).</summary>
    bool IsDefaultForType { get; }

    /// <summary>Language versions in their canonical spelling, e.g. "v1.2".</summary>
    IReadOnlyList<string> WorkflowTypeVersions { get; }

    /// <summary>The program looked up on PATH.</summary>
    string Executable { get; }

    /// <summary>What to tell a user whose machine lacks the engine.</summary>
    string InstallHint { get; }

    IReadOnlyList<EngineParameter> Parameters { get; }

    /// <summary>Whether submissions' workflow_engine_parameters are checked against <see cref="Parameters"/>; false when whoever runs the engine judges them.</summary>
    bool ChecksParameters => true;

    /// <summary>Maps a submitted type version to its canonical spelling, or null if unsupported.</summary>
    string? NormalizeTypeVersion(string version);

    /// <summary>The engine's version, read from the engine itself (e.g. `cwltool --version`), or null.</summary>
    Task<string?> ReadVersionAsync(string executablePath, CancellationToken cancellationToken);

    /// <summary>workflow_params as the engine reads them from the params file (its inputs, config or params).</summary>
    JsonObject PrepareParams(JsonObject workflowParams, RunWorkspace workspace) => workflowParams;

    /// <summary>Writes the files the engine needs besides the workflow and params (helpers, config) before it starts.</summary>
    Task WriteSupportFilesAsync(RunWorkspace workspace, CancellationToken cancellationToken) => Task.CompletedTask;

    IReadOnlyList<string> BuildArguments(EngineInvocation invocation);

    /// <summary>
    /// After the engine exited: the run's outputs object, with every output file in the run's outputs folder
    /// (an engine that writes them elsewhere moves them there), or null if the engine left none to report.
    /// </summary>
    JsonObject? CollectOutputs(RunWorkspace workspace);

    /// <summary>
    /// The steps the engine reported so far; empty if it reports none. Each step's own log files, where the engine
    /// keeps them, are linked under the run's tasks folder (see <see cref="RunWorkspace.TaskLogPath"/>).
    /// </summary>
    IReadOnlyList<RunTask> ReadTasks(RunWorkspace workspace);

    /// <summary>
    /// A reader of one execution's tasks that may keep its place between reads, so an engine whose log grows large
    /// reads only what is new each time. By default each read is a fresh <see cref="ReadTasks"/>.
    /// </summary>
    ITaskReader OpenTaskReader(RunWorkspace workspace) => new RereadingTaskReader(this, workspace);
}

/// <summary>Reads the tasks of one execution, as often as asked, as they are so far.</summary>
public interface ITaskReader
{
    IReadOnlyList<RunTask> Read();
}

internal sealed class RereadingTaskReader(IWorkflowEngine engine, RunWorkspace workspace) : ITaskReader
{
    public IReadOnlyList<RunTask> Read() => engine.ReadTasks(workspace);
}
