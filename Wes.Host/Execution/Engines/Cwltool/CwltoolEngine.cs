using System.Text.Json.Nodes;
using Wes.Execution.Engines.Cwl;
using Wes.Runs;

namespace Wes.Execution.Engines.Cwltool;

/// <summary>The reference CWL runner, run as `cwltool [options] workflow params.json`; the default engine for CWL.</summary>
public sealed class CwltoolEngine : IWorkflowEngine
{
    public string Name => "cwltool";
    public string WorkflowType => CwlLanguage.WorkflowType;
    public IReadOnlyList<string> WorkflowTypeAliases => CwlLanguage.Aliases;
    public bool IsDefaultForType => true;
    public IReadOnlyList<string> WorkflowTypeVersions => CwlLanguage.Versions;
    public string Executable => "cwltool";
    public string InstallHint => "install it with `apt-get install -y cwltool` (or `pip install cwltool`)";

    public IReadOnlyList<EngineParameter> Parameters { get; } =
    [
        EngineParameter.Boolean("parallel", false, "Run independent jobs in parallel (--parallel)."),
        EngineParameter.Boolean("debug", false, "Verbose engine log (--debug)."),
        EngineParameter.Boolean("strict", true, "Strict validation of the workflow document (--strict / --non-strict)."),
        EngineParameter.Boolean("relax_path_checks", false, "Allow spaces and other characters in file names (--relax-path-checks)."),
        EngineParameter.Boolean("no_container", false, "Run tools on the host even when they ask for a container (--no-container)."),
        EngineParameter.Choice("on_error", "stop", ["stop", "continue"], "On a failed step: stop or continue (--on-error)."),
    ];

    public string? NormalizeTypeVersion(string version) => CwlLanguage.NormalizeVersion(version);

    public Task<string?> ReadVersionAsync(string executablePath, CancellationToken cancellationToken) =>
        EngineArguments.ReadVersionAsync(executablePath, "--version", EngineArguments.LastWord, cancellationToken);

    public IReadOnlyList<string> BuildArguments(EngineInvocation invocation)
    {
        var workspace = invocation.Workspace;
        var parameters = invocation.Parameters;
        var arguments = new List<string>
        {
            "--disable-color", "--timestamps",
            "--outdir", workspace.OutputsDir,
            "--tmpdir-prefix", workspace.TmpDir + Path.DirectorySeparatorChar,
            "--tmp-outdir-prefix", workspace.TmpDir + Path.DirectorySeparatorChar,
        };
        EngineArguments.AddFlag(arguments, parameters, "parallel", "--parallel");
        EngineArguments.AddFlag(arguments, parameters, "debug", "--debug");
        EngineArguments.AddFlag(arguments, parameters, "relax_path_checks", "--relax-path-checks");
        EngineArguments.AddFlag(arguments, parameters, "no_container", "--no-container");
        arguments.Add(parameters.TryGetValue("strict", out var strict) && strict == "false" ? "--non-strict" : "--strict");
        EngineArguments.AddValue(arguments, parameters, "on_error", "--on-error");
        arguments.Add(invocation.WorkflowPath);
        arguments.Add(workspace.ParamsPath);
        return arguments;
    }

    public JsonObject? CollectOutputs(RunWorkspace workspace) => CwlLanguage.ReadOutputObject(workspace);

    /// <summary>cwltool keeps no log per job (a job's output is in the engine's stderr), so no task log is linked.</summary>
    public IReadOnlyList<RunTask> ReadTasks(RunWorkspace workspace) => new CwltoolTaskReader(workspace).Read();

    public ITaskReader OpenTaskReader(RunWorkspace workspace) => new CwltoolTaskReader(workspace);
}

/// <summary>Feeds cwltool's stderr to the parser as it grows, each line once.</summary>
internal sealed class CwltoolTaskReader(RunWorkspace workspace) : ITaskReader
{
    private readonly LogTail _tail = new(workspace.StderrPath);
    private readonly CwltoolLogParser _parser = new();

    public IReadOnlyList<RunTask> Read()
    {
        foreach (var line in _tail.ReadNewLines())
        {
            _parser.Feed(line);
        }

        return _parser.Tasks.ToList();
    }
}
