using System.Text.Json.Nodes;
using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Runs;

namespace Wes.Tests.Support;

/// <summary>
/// A CWL engine whose program is <paramref name="executable"/>: a name looked up on PATH, or an absolute path a test
/// creates and deletes to make the engine appear and vanish. It reports version 1.0 while the program exists.
/// </summary>
public sealed class FakeEngine(string name, string executable, string workflowType = "CWL") : IWorkflowEngine
{
    public string Name => name;
    public string WorkflowType => workflowType;
    public IReadOnlyList<string> WorkflowTypeAliases { get; } = [];
    public bool IsDefaultForType => false;
    public IReadOnlyList<string> WorkflowTypeVersions { get; } = ["v1.0"];
    public string Executable => executable;
    public string InstallHint => $"install it with apt-get install -y {name}";
    public IReadOnlyList<EngineParameter> Parameters { get; } = [];
    public string? NormalizeTypeVersion(string version) => version.TrimStart('v') == "1.0" ? "v1.0" : null;

    public Task<string?> ReadVersionAsync(string executablePath, CancellationToken cancellationToken) =>
        Task.FromResult(File.Exists(executablePath) ? "1.0" : null);

    public IReadOnlyList<string> BuildArguments(EngineInvocation invocation) => [];
    public JsonObject? CollectOutputs(RunWorkspace workspace) => null;
    public IReadOnlyList<RunTask> ReadTasks(RunWorkspace workspace) => [];
}
