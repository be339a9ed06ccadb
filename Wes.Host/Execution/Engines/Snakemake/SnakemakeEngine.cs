using System.Text.Json;
using System.Text.Json.Nodes;
using Wes.Runs;

namespace Wes.Execution.Engines.Snakemake;

/// <summary>
/// Snakemake (workflow type SMK), run as `snakemake --snakefile workflow --configfile params.json ...` in the folder of
/// the attachments. workflow_params become the config. A log handler script records every job as JSON, which gives
/// the tasks (with times, commands and exit codes), each job's own log files, and the run's outputs.
/// </summary>
public sealed class SnakemakeEngine : IWorkflowEngine
{
    private const string HandlerResource = "Wes.Engines.Snakemake.wes_log_handler.py";
    private const string HandlerFileName = "wes_log_handler.py";
    private const string EventsFileName = "snakemake-events.jsonl";
    private const string SlurmStatusResource = "Wes.Engines.Snakemake.wes_slurm_status.py";
    private const string SlurmStatusFileName = "wes_slurm_status.py";

    /// <summary>Where the workflow's jobs run: beside the engine, or each as a Slurm batch job.</summary>
    public static IReadOnlyList<string> Executors { get; } = ["local", "slurm"];

    public string Name => "snakemake";
    public string WorkflowType => "SMK";
    public IReadOnlyList<string> WorkflowTypeAliases { get; } = ["Snakemake"];
    public bool IsDefaultForType => true;

    /// <summary>Snakefiles have no language version of their own; "1.0" is the spelling other WES servers use for SMK.</summary>
    public IReadOnlyList<string> WorkflowTypeVersions { get; } = ["1.0"];

    public string Executable => "snakemake";
    public string InstallHint => "install it with `apt-get install -y snakemake` (or `pip install snakemake`)";

    public IReadOnlyList<EngineParameter> Parameters { get; } =
    [
        EngineParameter.Integer("cores", 1, 1, 1024, "Cores the run may use at once (--cores)."),
        EngineParameter.Boolean("keep_going", false, "Go on with independent jobs after a job fails (--keep-going)."),
        EngineParameter.Integer("restart_times", 0, 0, 10, "Times a failed job is tried again (--restart-times)."),
        EngineParameter.Text("target", null, EngineArguments.Targets(),
            "must be rule names or relative file paths separated by spaces, none starting with a dash",
            "Rules or files to build, separated by spaces; by default the Snakefile's first rule."),
        EngineParameter.Boolean("verbose", false, "Verbose engine log (--verbose)."),
        EngineParameter.Choice("executor", "local", Executors,
            "Where the workflow's jobs run: local (beside the engine) or slurm (each job submitted with sbatch; a status command " +
            "asks Slurm how each ended, so failed jobs are noticed; cores is then the most jobs queued at once)."),
    ];

    public string? NormalizeTypeVersion(string version) =>
        WorkflowTypeVersions.Contains(version.Trim(), StringComparer.Ordinal) ? version.Trim() : null;

    public Task<string?> ReadVersionAsync(string executablePath, CancellationToken cancellationToken) =>
        EngineArguments.ReadVersionAsync(executablePath, "--version", EngineArguments.LastWord, cancellationToken);

    /// <summary>A Snakefile opens paths, not URLs: file:// values in the config become plain paths.</summary>
    public JsonObject PrepareParams(JsonObject workflowParams, RunWorkspace workspace) =>
        (JsonObject)FileUrls.ToPaths(workflowParams)!;

    public async Task WriteSupportFilesAsync(RunWorkspace workspace, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(workspace.EngineDir);
        // A JSON string is also a valid Python string literal, whatever the run folder's path contains.
        var script = (await ReadResourceAsync(HandlerResource, cancellationToken))
            .Replace("\"__WES_EVENTS_FILE__\"", JsonSerializer.Serialize(EventsPath(workspace)), StringComparison.Ordinal);
        await SafeFiles.WriteTextAsync(Path.Combine(workspace.EngineDir, HandlerFileName), script, cancellationToken);
        File.Delete(EventsPath(workspace));
        await SafeFiles.WriteTextAsync(
            Path.Combine(workspace.EngineDir, SlurmStatusFileName), await ReadResourceAsync(SlurmStatusResource, cancellationToken), cancellationToken);
    }

    private static async Task<string> ReadResourceAsync(string name, CancellationToken cancellationToken)
    {
        await using var resource = typeof(SnakemakeEngine).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is missing from the build.");
        using var reader = new StreamReader(resource);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    public IReadOnlyList<string> BuildArguments(EngineInvocation invocation)
    {
        var workspace = invocation.Workspace;
        var parameters = invocation.Parameters;
        var arguments = new List<string>
        {
            // --configfile takes several files, so it comes first, where the next option ends its list.
            "--configfile", workspace.ParamsPath,
            "--snakefile", invocation.WorkflowPath,
            "--directory", workspace.ExeDir,
            "--cores", parameters.GetValueOrDefault("cores", "1"),
            "--nocolor", "--printshellcmds", "--show-failed-logs",
            // One executor owns a run at a time; a retried attempt must not trip over the lock or half-written files
            // an interrupted one left behind.
            "--nolock", "--rerun-incomplete",
            "--log-handler-script", Path.Combine(workspace.EngineDir, HandlerFileName),
        };
        EngineArguments.AddFlag(arguments, parameters, "keep_going", "--keep-going");
        EngineArguments.AddValue(arguments, parameters, "restart_times", "--restart-times");
        EngineArguments.AddFlag(arguments, parameters, "verbose", "--verbose");
        if (parameters.GetValueOrDefault("executor") == "slurm")
        {
            // Snakemake runs these through a shell: only this server's own paths go in, each quoted as one word.
            var logs = Providers.Slurm.SlurmJobScript.Quote(Path.Combine(workspace.EngineDir, "slurm-%j.log"));
            arguments.AddRange([
                "--cluster", $"sbatch --parsable --job-name=wes-{Path.GetFileName(workspace.Root)}-smk --output={logs}",
                "--cluster-status", "python3 " + Providers.Slurm.SlurmJobScript.Quote(Path.Combine(workspace.EngineDir, SlurmStatusFileName)),
                "--cluster-cancel", "scancel",
                "--jobs", parameters.GetValueOrDefault("cores", "1"),
            ]);
        }

        if (parameters.TryGetValue("target", out var targets))
        {
            arguments.AddRange(targets.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        }

        return arguments;
    }

    /// <summary>
    /// The declared outputs of the target jobs (those whose outputs no other job uses) that exist, moved into the
    /// outputs folder and keyed by their path. A target without outputs (the usual `rule all`) stands for its inputs.
    /// </summary>
    public JsonObject? CollectOutputs(RunWorkspace workspace)
    {
        var jobs = ReadJobs(workspace);
        var produced = jobs.SelectMany(j => j.Output).ToHashSet(StringComparer.Ordinal);
        var consumed = jobs.SelectMany(j => j.Input).ToHashSet(StringComparer.Ordinal);
        var finals = jobs.Where(j => !j.Output.Any(consumed.Contains))
            .SelectMany(j => j.Output.Count > 0 ? j.Output : j.Input.Where(produced.Contains))
            .Distinct(StringComparer.Ordinal);
        var outputs = new JsonObject();
        foreach (var path in finals)
        {
            if (OutputFiles.MoveIntoOutputs(workspace, path) is { } moved)
            {
                outputs[path] = OutputFiles.Describe(moved);
            }
        }

        return outputs;
    }

    public IReadOnlyList<RunTask> ReadTasks(RunWorkspace workspace)
    {
        var tasks = new List<RunTask>();
        foreach (var job in ReadJobs(workspace))
        {
            LinkLogs(workspace, job);
            tasks.Add(new RunTask
            {
                TaskId = job.TaskId,
                Name = job.DisplayName,
                CmdJson = job.ShellCommand is null ? null : JsonSerializer.Serialize(new[] { "bash", "-c", job.ShellCommand }),
                StartTime = job.StartTime,
                EndTime = job.EndTime,
                ExitCode = job.ExitCode,
                SystemLogsJson = job.Failed ? new JsonArray($"snakemake: job {job.JobId} (rule {job.Rule}) failed; see the run's stderr log").ToJsonString() : null,
            });
        }

        return tasks;
    }

    private static IReadOnlyList<SnakemakeJob> ReadJobs(RunWorkspace workspace) =>
        File.Exists(EventsPath(workspace)) ? SnakemakeEventLog.Parse(RunWorkspace.ReadShared(EventsPath(workspace))) : [];

    private static string EventsPath(RunWorkspace workspace) => Path.Combine(workspace.EngineDir, EventsFileName);

    /// <summary>A rule's log files are its task's logs: named stdout/stderr (or out/err) where given, else the first one as stderr.</summary>
    private static void LinkLogs(RunWorkspace workspace, SnakemakeJob job)
    {
        var stdout = job.LogNames.GetValueOrDefault("stdout") ?? job.LogNames.GetValueOrDefault("out");
        var stderr = job.LogNames.GetValueOrDefault("stderr") ?? job.LogNames.GetValueOrDefault("err")
            ?? job.Log.FirstOrDefault(log => log != stdout);
        if (stdout is not null)
        {
            workspace.LinkTaskLog(job.TaskId, TaskLogStream.Stdout, Path.Combine(workspace.ExeDir, stdout));
        }

        if (stderr is not null)
        {
            workspace.LinkTaskLog(job.TaskId, TaskLogStream.Stderr, Path.Combine(workspace.ExeDir, stderr));
        }
    }
}
