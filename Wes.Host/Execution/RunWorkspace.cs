using System.Text;

namespace Wes.Execution;

/// <summary>
/// The per-run directory (made at submission when there are attachments, else when the run is prepared): the staged attachments (subfolders kept) and the params
/// file in exe/, the engine's stdout/stderr, its own working files, its outputs and the tasks' logs. One place names
/// every path so nothing escapes it.
/// </summary>
public sealed class RunWorkspace(string runsDir, string runId)
{
    public string Root { get; } = Path.Combine(runsDir, runId);
    public string ExeDir => Path.Combine(Root, "exe");
    public string OutputsDir => Path.Combine(Root, "outputs");
    public string TmpDir => Path.Combine(Root, "tmp");

    /// <summary>The engine's own working files (job store, event log, trace), apart from the user's files.</summary>
    public string EngineDir => Path.Combine(Root, "engine");

    /// <summary>One folder per task holding links to its stdout and stderr, where the engine keeps them.</summary>
    public string TasksDir => Path.Combine(Root, "tasks");

    /// <summary>A submission is written under this name and moved into place whole, so no half-written run is ever seen.</summary>
    public const string StagingPrefix = ".staging-";

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

    /// <summary>runs/&lt;run_id&gt;/tasks/&lt;task_id&gt;/stdout or stderr; the task id is escaped into one safe folder name.</summary>
    public string TaskLogPath(string taskId, TaskLogStream stream) =>
        Path.Combine(TasksDir, SafeName(taskId), stream == TaskLogStream.Stdout ? "stdout" : "stderr");

    /// <summary>
    /// Points a task's log at the file the engine keeps it in (a link, so it grows while the task runs). Does nothing
    /// until the file exists; a retried task's newer log replaces the older one. The log endpoints only serve targets
    /// inside the run folder.
    /// </summary>
    public void LinkTaskLog(string taskId, TaskLogStream stream, string target)
    {
        var link = TaskLogPath(taskId, stream);
        if (!File.Exists(target) || new FileInfo(link).LinkTarget == target)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            File.Delete(link);
            File.CreateSymbolicLink(link, target);
        }
        catch (IOException)
        {
            // Linked by another reader of the same run at the same moment.
        }
    }

    /// <summary>Files the engine writes are read up to this size (the first bytes); anything longer is cut.</summary>
    public const int MaxReadBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Reads a file the engine may still be writing, or that the workflow may have replaced: only a regular file, never
    /// through a link, never blocking, at most <see cref="MaxReadBytes"/>. Anything else reads as empty.
    /// </summary>
    public static string ReadShared(string path)
    {
        using var stream = RegularFile.TryOpen(path, out var facts);
        if (stream is null || facts is null)
        {
            return "";
        }

        // Sized by what the file held when opened; what it gains meanwhile is read next time.
        var buffer = new byte[Math.Min(facts.Size, MaxReadBytes)];
        int total = 0, read;
        while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0)
        {
            total += read;
        }

        return System.Text.Encoding.UTF8.GetString(buffer, 0, total);
    }

    /// <summary>Letters, digits, '.', '_' and '-' stay; anything else becomes %XX, so no task id can name a path.</summary>
    public static string SafeName(string name)
    {
        var safe = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            var c = (char)b;
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' || (c == '.' && safe.Length > 0) ? c.ToString() : $"%{b:X2}");
        }

        return safe.Length == 0 ? "%" : safe.ToString();
    }
}

public enum TaskLogStream
{
    Stdout,
    Stderr,
}
