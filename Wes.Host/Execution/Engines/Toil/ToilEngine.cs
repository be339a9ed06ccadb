using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Wes.Execution.Engines.Cwl;
using Wes.Runs;

namespace Wes.Execution.Engines.Toil;

/// <summary>
/// Toil as a second CWL engine (`toil-cwl-runner`). On one machine it runs jobs itself; through the batchSystem
/// parameter it hands them to Slurm, LSF, Grid Engine, HTCondor, Torque, Kubernetes and others, which is how one run
/// scales onto a cluster. Its job store, job logs and work folder stay inside the run's directory.
/// </summary>
public sealed partial class ToilEngine : IWorkflowEngine
{
    private const string JobLogsFolder = "job-logs";

    public static IReadOnlyList<string> BatchSystems { get; } =
        ["single_machine", "slurm", "kubernetes", "lsf", "grid_engine", "htcondor", "torque", "mesos", "aws_batch", "tes", "parasol"];

    public string Name => "toil";
    public string WorkflowType => CwlLanguage.WorkflowType;
    public IReadOnlyList<string> WorkflowTypeAliases => CwlLanguage.Aliases;
    public bool IsDefaultForType => false;
    public IReadOnlyList<string> WorkflowTypeVersions => CwlLanguage.Versions;
    public string Executable => "toil-cwl-runner";
    public string InstallHint => "install it with `apt-get install -y toil` (or `pip install 'toil[cwl]'`)";

    [GeneratedRegex(@"^\d+(\.\d+)? ?([KMGTPE]i?)?B?\z", RegexOptions.IgnoreCase)]
    private static partial Regex Size();

    /// <summary>A cloud job store prefix ("aws:us-west-2:wes"), which Kubernetes and AWS Batch need; the run id is added.</summary>
    [GeneratedRegex(@"^(aws|google):[a-z0-9-]+:[a-z0-9-]{1,24}\z")]
    private static partial Regex CloudJobStore();

    public IReadOnlyList<EngineParameter> Parameters { get; } =
    [
        EngineParameter.Choice("batchSystem", "single_machine", BatchSystems, "Where Toil runs the jobs (--batchSystem)."),
        EngineParameter.Text("jobStore", null, CloudJobStore(), "must be aws:<region>:<prefix> or google:<project>:<prefix>",
            "A cloud job store prefix for batch systems without a shared file system; the run id is appended (--jobStore)."),
        EngineParameter.Integer("maxCores", null, 1, 1_000_000, "Most cores Toil uses at once (--maxCores)."),
        EngineParameter.Text("maxMemory", null, Size(), "must be a size such as 64G or 512Mi", "Most memory Toil uses at once (--maxMemory)."),
        EngineParameter.Integer("defaultCores", 1, 1, 1024, "Cores for a job that does not say (--defaultCores)."),
        EngineParameter.Text("defaultMemory", "2Gi", Size(), "must be a size such as 4G or 512Mi", "Memory for a job that does not say (--defaultMemory)."),
        EngineParameter.Text("defaultDisk", "3Gi", Size(), "must be a size such as 10G", "Disk for a job that does not say (--defaultDisk)."),
        EngineParameter.Integer("maxLocalJobs", null, 1, 1024, "Most jobs run on the leader's machine at once (--maxLocalJobs)."),
        EngineParameter.Integer("retryCount", 1, 0, 10, "Times a failed job is tried again (--retryCount)."),
        EngineParameter.Integer("statePollingWait", null, 1, 3600,
            "Seconds between Toil's checks of its batch system's jobs (--statePollingWait); by default Slurm's SchedulerTimeSlice and more."),
        EngineParameter.Boolean("no_container", false, "Run tools on the host even when they ask for a container (--no-container)."),
        EngineParameter.Boolean("debug", false, "Verbose engine log (--logDebug)."),
    ];

    public string? NormalizeTypeVersion(string version) => CwlLanguage.NormalizeVersion(version);

    /// <summary>`toil-cwl-runner --version` prints just the version ("5.9.0") on stdout.</summary>
    public Task<string?> ReadVersionAsync(string executablePath, CancellationToken cancellationToken) =>
        EngineArguments.ReadVersionAsync(executablePath, "--version", EngineArguments.LastWord, cancellationToken);

    /// <summary>An attempt that was cut short leaves its job store behind; Toil refuses to start over one.</summary>
    public Task WriteSupportFilesAsync(RunWorkspace workspace, CancellationToken cancellationToken)
    {
        if (Directory.Exists(JobStorePath(workspace)))
        {
            Directory.Delete(JobStorePath(workspace), recursive: true);
        }

        Directory.CreateDirectory(Path.Combine(workspace.EngineDir, JobLogsFolder));
        return Task.CompletedTask;
    }

    public IReadOnlyList<string> BuildArguments(EngineInvocation invocation)
    {
        var workspace = invocation.Workspace;
        var parameters = invocation.Parameters;
        var jobStore = parameters.TryGetValue("jobStore", out var cloud)
            ? $"{cloud}-{Path.GetFileName(workspace.Root)}"
            : "file:" + JobStorePath(workspace);
        var arguments = new List<string>
        {
            "--jobStore", jobStore,
            "--workDir", workspace.TmpDir,
            "--outdir", workspace.OutputsDir,
            "--writeLogs", Path.Combine(workspace.EngineDir, JobLogsFolder),
            "--writeLogsFromAllJobs",
            "--clean", "always",
            parameters.GetValueOrDefault("debug") == "true" ? "--logDebug" : "--logInfo",
        };
        foreach (var option in new[] { "batchSystem", "maxCores", "maxMemory", "defaultCores", "defaultMemory", "defaultDisk", "maxLocalJobs", "retryCount", "statePollingWait" })
        {
            EngineArguments.AddValue(arguments, parameters, option, "--" + option);
        }

        EngineArguments.AddFlag(arguments, parameters, "no_container", "--no-container");
        arguments.Add(invocation.WorkflowPath);
        arguments.Add(workspace.ParamsPath);
        return arguments;
    }

    public JsonObject? CollectOutputs(RunWorkspace workspace) => CwlLanguage.ReadOutputObject(workspace);

    /// <summary>Each job's Toil log (which holds the tool's stderr) is linked as the task's stderr.</summary>
    public IReadOnlyList<RunTask> ReadTasks(RunWorkspace workspace)
    {
        var leader = File.Exists(workspace.StderrPath) ? RunWorkspace.ReadShared(workspace.StderrPath) : "";
        var folder = new DirectoryInfo(Path.Combine(workspace.EngineDir, JobLogsFolder));
        var jobLogs = folder.Exists
            ? folder.EnumerateFiles("*.log").OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => (f.FullName, RunWorkspace.ReadShared(f.FullName))).ToList()
            : [];
        return ToilLogParser.Parse(leader, jobLogs, (taskId, path) => workspace.LinkTaskLog(taskId, TaskLogStream.Stderr, path));
    }

    private static string JobStorePath(RunWorkspace workspace) => Path.Combine(workspace.EngineDir, "jobstore");
}
