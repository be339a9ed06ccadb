using System.Text.Json.Nodes;
using Wes.Runs;

namespace Wes.Execution.Engines;

/// <summary>A parameter an engine accepts through workflow_engine_parameters, published in service-info.</summary>
public sealed record EngineParameter(
    string Name, string Type, string DefaultValue, string Description, IReadOnlyList<string>? Choices = null);

/// <summary>Everything an engine needs to build its command line for one run.</summary>
public sealed record EngineInvocation(
    RunWorkspace Workspace, string WorkflowPath, IReadOnlyDictionary<string, string> Parameters);

/// <summary>One workflow engine (cwltool, ...), run by the Local provider as a child process.</summary>
public interface IWorkflowEngine
{
    /// <summary>The name clients pass as workflow_engine.</summary>
    string Name { get; }

    /// <summary>The workflow type in WES spelling, e.g. "CWL".</summary>
    string WorkflowType { get; }

    /// <summary>Language versions in their canonical spelling, e.g. "v1.2".</summary>
    IReadOnlyList<string> WorkflowTypeVersions { get; }

    /// <summary>The program looked up on PATH.</summary>
    string Executable { get; }

    /// <summary>What to tell a user whose machine lacks the engine.</summary>
    string InstallHint { get; }

    IReadOnlyList<EngineParameter> Parameters { get; }

    /// <summary>Maps a submitted type version to its canonical spelling, or null if unsupported.</summary>
    string? NormalizeTypeVersion(string version);

    /// <summary>The engine's version, read from the engine itself (e.g. `cwltool --version`), or null.</summary>
    Task<string?> ReadVersionAsync(string executablePath, CancellationToken cancellationToken);

    IReadOnlyList<string> BuildArguments(EngineInvocation invocation);

    /// <summary>The run's outputs object from what the engine wrote to stdout (and its output folder).</summary>
    JsonObject? ReadOutputs(RunWorkspace workspace);

    /// <summary>The steps the engine reported in its log; empty if it reports none.</summary>
    IReadOnlyList<RunTask> ReadTasks(RunWorkspace workspace);
}
