namespace Wes.Execution;

/// <summary>
/// The per-run directory: the request as submitted, the staged attachments (subfolders kept) and the params
/// file in exe/, the engine's stdout/stderr and its outputs. One place names every path so nothing escapes it.
/// </summary>
public sealed class RunWorkspace(string runsDir, string runId)
{
    public string Root { get; } = Path.Combine(runsDir, runId);
    public string ExeDir => Path.Combine(Root, "exe");
    public string OutputsDir => Path.Combine(Root, "outputs");
    public string TmpDir => Path.Combine(Root, "tmp");
    public string RequestPath => Path.Combine(Root, "request.json");
    /// <summary>Engines resolve relative paths in the params file against its folder, so it sits beside the attachments.</summary>
    public const string ParamsFileName = ".wes-params.json";

    public string ParamsPath => Path.Combine(ExeDir, ParamsFileName);
    public string StdoutPath => Path.Combine(Root, "stdout.log");
    public string StderrPath => Path.Combine(Root, "stderr.log");

    public string AttemptsDir => Path.Combine(Root, "attempts");

    /// <summary>Earlier executions' log folders, oldest first: attempts/1, attempts/2, ...</summary>
    public int ArchivedAttempts => Directory.Exists(AttemptsDir) ? Directory.GetDirectories(AttemptsDir).Length : 0;

    public string ArchivedLog(int attempt, string name) => Path.Combine(AttemptsDir, attempt.ToString(System.Globalization.CultureInfo.InvariantCulture), name);

    /// <summary>Moves the previous execution's stdout/stderr aside before the next execution writes its own.</summary>
    public void ArchiveLogs()
    {
        if (!File.Exists(StdoutPath) && !File.Exists(StderrPath))
        {
            return;
        }

        var target = Path.GetDirectoryName(ArchivedLog(ArchivedAttempts + 1, "stdout.log"))!;
        Directory.CreateDirectory(target);
        foreach (var log in new[] { StdoutPath, StderrPath }.Where(File.Exists))
        {
            File.Move(log, Path.Combine(target, Path.GetFileName(log)), overwrite: true);
        }
    }

    /// <summary>The absolute path of an attachment, or null if the name would leave exe/.</summary>
    public string? ResolveAttachment(string relativePath)
    {
        var full = Path.GetFullPath(Path.Combine(ExeDir, relativePath));
        return full.StartsWith(ExeDir + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? full : null;
    }
}
