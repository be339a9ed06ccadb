using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Wes.Runs;

namespace Wes.Execution.Engines.Nextflow;

/// <summary>
/// Nextflow (workflow type NFL), run as `nextflow run workflow -params-file params.json ...` in the folder of the
/// attachments, with its work folder in the run's tmp/. Listed only where `nextflow` is on PATH. Its trace file gives
/// the tasks; `params.outdir` points at the run's outputs folder unless the request sets it.
/// </summary>
public sealed partial class NextflowEngine : IWorkflowEngine
{
    /// <summary>The trace columns the parser reads; raw mode makes the times epoch milliseconds.</summary>
    public const string TraceFields = "task_id,hash,native_id,name,status,exit,submit,start,complete,workdir";

    private const string ConfigFileName = "wes.config";
    private const string TraceFileName = "trace.tsv";

    public string Name => "nextflow";
    public string WorkflowType => "NFL";
    public IReadOnlyList<string> WorkflowTypeAliases { get; } = ["Nextflow"];
    public bool IsDefaultForType => true;
    public IReadOnlyList<string> WorkflowTypeVersions { get; } = ["DSL2"];
    public string Executable => "nextflow";
    public string InstallHint => "install it from nextflow.io (it needs Java 11 or later) and put `nextflow` on PATH";

    [GeneratedRegex(@"version (?<version>\d[^\s]*)")]
    private static partial Regex VersionLine();

    public IReadOnlyList<EngineParameter> Parameters { get; } =
    [
        EngineParameter.Text("profile", null, EngineArguments.Word(), "must be profile names separated by commas",
            "Configuration profiles to use, separated by commas (-profile)."),
        EngineParameter.Integer("queue_size", null, 1, 10_000, "Most tasks run at once by each executor (-queue-size)."),
        EngineParameter.Boolean("stub_run", false, "Run the processes' stub blocks instead of their scripts (-stub-run)."),
    ];

    /// <summary>"DSL2", "dsl2" and "2" are the same version.</summary>
    public string? NormalizeTypeVersion(string version) =>
        version.Trim().ToUpperInvariant() is "DSL2" or "2" ? "DSL2" : null;

    /// <summary>`nextflow -version` prints a banner with a line "version 23.10.1 build 5891".</summary>
    public Task<string?> ReadVersionAsync(string executablePath, CancellationToken cancellationToken) =>
        EngineArguments.ReadVersionAsync(executablePath, "-version", ParseVersion, cancellationToken);

    public static string? ParseVersion(string output) =>
        VersionLine().Match(output) is { Success: true } match ? match.Groups["version"].Value : null;

    public JsonObject PrepareParams(JsonObject workflowParams, RunWorkspace workspace)
    {
        var prepared = (JsonObject)FileUrls.ToPaths(workflowParams)!;
        prepared["outdir"] ??= workspace.OutputsDir;
        return prepared;
    }

    /// <summary>The trace settings go in a config file; the trace's path goes on the command line, so no path is quoted in Groovy.</summary>
    public async Task WriteSupportFilesAsync(RunWorkspace workspace, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(workspace.EngineDir);
        var config = $"trace {{\n    enabled = true\n    overwrite = true\n    raw = true\n    fields = '{TraceFields}'\n}}\n";
        await SafeFiles.WriteTextAsync(Path.Combine(workspace.EngineDir, ConfigFileName), config, cancellationToken);
    }

    public IReadOnlyList<string> BuildArguments(EngineInvocation invocation)
    {
        var workspace = invocation.Workspace;
        var parameters = invocation.Parameters;
        var arguments = new List<string>
        {
            "-log", Path.Combine(workspace.EngineDir, "nextflow.log"),
            "run", invocation.WorkflowPath,
            "-params-file", workspace.ParamsPath,
            "-work-dir", Path.Combine(workspace.TmpDir, "work"),
            "-c", Path.Combine(workspace.EngineDir, ConfigFileName),
            "-with-trace", TracePath(workspace),
            "-ansi-log", "false",
        };
        EngineArguments.AddValue(arguments, parameters, "profile", "-profile");
        EngineArguments.AddValue(arguments, parameters, "queue_size", "-queue-size");
        EngineArguments.AddFlag(arguments, parameters, "stub_run", "-stub-run");
        return arguments;
    }

    /// <summary>Every file published into the outputs folder (params.outdir), keyed by its path there.</summary>
    public JsonObject? CollectOutputs(RunWorkspace workspace) =>
        new(OutputFiles.List(workspace.OutputsDir).Select(f => KeyValuePair.Create(f.RelativePath, (JsonNode?)OutputFiles.Describe(f.FullPath))));

    public IReadOnlyList<RunTask> ReadTasks(RunWorkspace workspace) =>
        File.Exists(TracePath(workspace))
            ? NextflowTraceParser.Parse(RunWorkspace.ReadShared(TracePath(workspace)), (taskId, workDir) =>
            {
                workspace.LinkTaskLog(taskId, TaskLogStream.Stdout, Path.Combine(workDir, ".command.out"));
                workspace.LinkTaskLog(taskId, TaskLogStream.Stderr, Path.Combine(workDir, ".command.err"));
            })
            : [];

    private static string TracePath(RunWorkspace workspace) => Path.Combine(workspace.EngineDir, TraceFileName);
}
