using Wes.Execution;

namespace Wes.Providers.Slurm;

/// <summary>
/// The files a run's batch job needs in its run directory: the job script, and an sbatch in front of the real one
/// that notes every job the engine submits (Toil's and Snakemake's steps), so the run's tasks can list them and a
/// cancel can reach them. Neither holds anything a user sent: the engine's command reaches the script as its
/// arguments, which sbatch passes on as they are. The list of ids is in a folder the workflow can write, so it is only
/// a hint: each job the shim submits carries the run's comment, and only jobs whose Slurm record shows it are the run's.
/// </summary>
public static class SlurmJobScript
{
    public const string ScriptName = "slurm-job.sh";
    private const string ShimFolder = "slurm-bin";
    private const string JobsFile = "slurm-jobs.txt";

    /// <summary>At most this many ids are read from a run's list; a workflow cannot make the server follow more.</summary>
    public const int MaxSubmittedJobs = 5_000;

    /// <summary>The --comment every job of the run carries, which Slurm keeps and squeue shows (%k).</summary>
    public static string RunComment(string runId) => "wes-run:" + runId;

    public static string ScriptPath(RunWorkspace workspace) => Path.Combine(workspace.EngineDir, ScriptName);

    /// <summary>Writes the job script and the recording sbatch; answers the script's path.</summary>
    public static async Task<string> WriteAsync(RunWorkspace workspace, string runId, string realSbatch, CancellationToken cancellationToken)
    {
        var shimDir = Path.Combine(workspace.EngineDir, ShimFolder);
        Directory.CreateDirectory(shimDir);
        var script = $"""
            #!/bin/sh
            # The batch job of one workflow run: the engine's command comes as this script's arguments.
            # Jobs the engine submits in turn go through the sbatch in {ShimFolder}, which notes their ids.
            PATH={Quote(shimDir)}:"$PATH"
            export PATH
            exec "$@"

            """;
        var shim = $$"""
            #!/bin/sh
            # sbatch as the run's engine sees it: the real one, with every job it submits tagged and noted for the run.
            out=$({{Quote(realSbatch)}} {{Quote("--comment=" + RunComment(runId))}} "$@")
            status=$?
            printf '%s\n' "$out"
            id=$(printf '%s\n' "$out" | sed -n -e 's/^Submitted batch job \([0-9][0-9]*\).*$/\1/p' -e 's/^\([0-9][0-9]*\)\(;.*\)\{0,1\}$/\1/p' | head -n 1)
            if [ -n "$id" ]; then printf '%s\n' "$id" >> {{Quote(JobsPath(workspace))}}; fi
            exit $status

            """;
        await SafeFiles.WriteTextAsync(ScriptPath(workspace), script, cancellationToken);
        var shimPath = Path.Combine(shimDir, "sbatch");
        await SafeFiles.WriteTextAsync(shimPath, shim, cancellationToken);
        var executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(ScriptPath(workspace), executable);
            File.SetUnixFileMode(shimPath, executable);
        }
        return ScriptPath(workspace);
    }

    /// <summary>
    /// The ids the run's list names, in order, at most <see cref="MaxSubmittedJobs"/>; empty when it names none. Not
    /// yet checked: whether each is the run's job only its Slurm record tells (<see cref="RunComment"/>).
    /// </summary>
    public static IReadOnlyList<string> SubmittedJobs(RunWorkspace workspace)
    {
        // A missing list reads as "": no ids.
        return RunWorkspace.ReadShared(JobsPath(workspace)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(id => id.Length is > 0 and <= 12 && id.All(char.IsAsciiDigit)).Distinct(StringComparer.Ordinal).Take(MaxSubmittedJobs).ToList();
    }

    /// <summary>Empties the run's list, once the jobs an earlier attempt left are gone, so this attempt's tasks are its own.</summary>
    public static void ForgetSubmittedJobs(RunWorkspace workspace) => File.Delete(JobsPath(workspace));

    /// <summary>A path as one single-quoted shell word (these are the server's own paths, quoted all the same).</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>sbatch treats '%' in --output and --error as a pattern; "%%" is a plain '%'.</summary>
    public static string OutputPattern(string path) => path.Replace("%", "%%", StringComparison.Ordinal);

    private static string JobsPath(RunWorkspace workspace) => Path.Combine(workspace.EngineDir, JobsFile);
}
