using System.Text.Json;
using System.Text.Json.Nodes;
using Wes.Execution;
using Wes.Runs;

namespace Wes.Providers.Remote;

/// <summary>What was brought back from a remote run: its log, its outputs rewritten to the copies here, and notes for the run's system log.</summary>
public sealed record CollectedRun(RemoteRunLog Log, JsonObject? Outputs, IReadOnlyList<string> Notes);

/// <summary>
/// Brings an ended remote run home, so our endpoints serve it even when the remote cannot be reached by our users: its
/// stdout and stderr into the run's log files, its tasks and their logs into the tasks folder (and a tasks file read
/// by <see cref="RemoteWesProvider.ReadTasks"/>), and the output files the remote lists into the outputs folder.
/// </summary>
public sealed class RemoteRunCollector(RemoteWesClient client, RemoteWesOptions options, ILogger logger)
{
    public const string TasksFileName = "remote-tasks.json";

    /// <summary>Pages of tasks or outputs read per run (of 500 each): a remote that pages on forever is not followed further.</summary>
    private const int MaxPages = 200;

    public async Task<CollectedRun> CollectAsync(RunWorkspace workspace, string remoteRunId, CancellationToken cancellationToken)
    {
        var log = await client.GetRunLogAsync(remoteRunId, cancellationToken);
        var notes = new List<string>();
        var budget = new CopyBudget(options.MaxCopyBytes);
        await CopyAsync(log.RunLog?.Stdout, workspace.StdoutPath, "stdout", budget, notes, cancellationToken);
        await CopyAsync(log.RunLog?.Stderr, workspace.StderrPath, "stderr", budget, notes, cancellationToken);
        await CollectTasksAsync(workspace, remoteRunId, log, budget, notes, cancellationToken);
        var outputs = log.Outputs?.DeepClone().AsObject();
        await CollectOutputsAsync(workspace, remoteRunId, outputs, budget, notes, cancellationToken);
        return new CollectedRun(log, outputs, notes);
    }

    /// <summary>
    /// Reads the remote run's tasks so far, without their logs, into the tasks file, so a long run shows its
    /// progress here; any failure leaves the file as it was (the tasks are read again at the end).
    /// </summary>
    public async Task RefreshTasksAsync(RunWorkspace workspace, string remoteRunId, CancellationToken cancellationToken)
    {
        try
        {
            await CollectTasksAsync(workspace, remoteRunId, log: null, new CopyBudget(0), notes: null, cancellationToken);
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or OperationCanceledException))
        {
            logger.LogInformation("Could not read the tasks of run {RemoteRunId} at {Remote} yet: {Error}", remoteRunId, client.Describe(), ex.Message);
        }
    }

    /// <summary>The tasks brought back for a run, as stored by the last collection; empty before that.</summary>
    public static IReadOnlyList<RunTask> ReadTasks(RunWorkspace workspace)
    {
        var text = RunWorkspace.ReadShared(Path.Combine(workspace.Root, TasksFileName));
        try
        {
            return text.Length == 0 ? [] : JsonSerializer.Deserialize<List<RunTask>>(text) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <param name="log">The run log when it was read already; otherwise it is read only if the remote lists no tasks.</param>
    /// <param name="notes">Null while the run goes on: the task logs are then left for the end.</param>
    private async Task CollectTasksAsync(RunWorkspace workspace, string remoteRunId, RemoteRunLog? log, CopyBudget budget, List<string>? notes, CancellationToken cancellationToken)
    {
        List<RemoteLog>? tasks = null;
        await foreach (var page in RemoteWesClient.PagesAsync(token => client.ListTasksAsync(remoteRunId, token, cancellationToken), MaxPages))
        {
            (tasks ??= []).AddRange(page.Items);
            if (tasks.Count >= 100_000)
            {
                break;
            }
        }

        // WES 1.1 pages the tasks; a 1.0 server has no such endpoint and keeps them in the run log.
        if (tasks is null)
        {
            log ??= await client.GetRunLogAsync(remoteRunId, cancellationToken);
            tasks = [.. log.TaskLogs ?? []];
        }

        var stored = new List<RunTask>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i];
            var taskId = task.Id ?? task.Name ?? $"task-{i + 1}";
            if (taskId.Length > 200 || ids.Contains(taskId))
            {
                taskId = $"task-{i + 1}";
            }

            ids.Add(taskId);
            if (notes is not null)
            {
                await CopyAsync(task.Stdout, workspace.TaskLogPath(taskId, TaskLogStream.Stdout), $"task {taskId} stdout", budget, notes, cancellationToken);
                await CopyAsync(task.Stderr, workspace.TaskLogPath(taskId, TaskLogStream.Stderr), $"task {taskId} stderr", budget, notes, cancellationToken);
            }

            stored.Add(new RunTask
            {
                TaskId = taskId, Name = task.Name ?? taskId, StartTime = task.StartTime, EndTime = task.EndTime, ExitCode = task.ExitCode,
                CmdJson = task.Cmd is null ? null : JsonSerializer.Serialize(task.Cmd),
                SystemLogsJson = task.SystemLogs.Count == 0 ? null : JsonSerializer.Serialize(task.SystemLogs),
            });
        }

        await SafeFiles.WriteTextAsync(Path.Combine(workspace.Root, TasksFileName), JsonSerializer.Serialize(stored), cancellationToken);
    }

    /// <summary>
    /// Copies the files the remote lists into our outputs folder, then points each output "location" (a file URL or
    /// a link at the remote) that names one of them at its copy, which our outputs endpoints serve.
    /// </summary>
    private async Task CollectOutputsAsync(RunWorkspace workspace, string remoteRunId, JsonObject? outputs, CopyBudget budget, List<string> notes, CancellationToken cancellationToken)
    {
        var copied = new List<string>();
        var listed = false;
        await foreach (var page in RemoteWesClient.PagesAsync(token => client.ListOutputsAsync(remoteRunId, token, cancellationToken), MaxPages))
        {
            listed = true;
            foreach (var file in page.Items)
            {
                var url = RemoteWesAnswers.Link(client.BaseUrl, file.Url)
                    ?? new Uri(client.BaseUrl, $"runs/{Uri.EscapeDataString(remoteRunId)}/outputs/{string.Join('/', file.Path.Split('/').Select(Uri.EscapeDataString))}");
                if (!IsPlainRelative(file.Path))
                {
                    notes.Add($"Output '{file.Path}' at the remote has a path that would leave the outputs folder; not copied.");
                }
                else if (await CopyAsync(url.AbsoluteUri, Path.Combine(workspace.OutputsDir, file.Path), $"output {file.Path}", budget, notes, cancellationToken))
                {
                    copied.Add(file.Path);
                }
            }
        }

        if (!listed && outputs is { Count: > 0 })
        {
            notes.Add($"{client.Describe()} lists no output files; the outputs name files at the remote.");
        }

        Relocate(outputs, copied, workspace.OutputsDir);
    }

    /// <summary>Rewrites every "location" (and "path") whose end names a copied file to the copy's file:// URL.</summary>
    private static void Relocate(JsonNode? node, IReadOnlyList<string> copied, string outputsDir)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in new[] { "location", "path" })
                {
                    if (obj[key] is not JsonValue value || !value.TryGetValue<string>(out var location))
                    {
                        continue;
                    }

                    var unescaped = Unescaped(location);
                    if (copied.Where(rel => unescaped.EndsWith("/" + rel, StringComparison.Ordinal)).MaxBy(rel => rel.Length) is { } match)
                    {
                        var local = Path.Combine(outputsDir, match);
                        obj[key] = key == "path" ? local : new Uri(local).AbsoluteUri;
                    }
                }

                foreach (var (_, child) in obj.ToList())
                {
                    Relocate(child, copied, outputsDir);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Relocate(child, copied, outputsDir);
                }

                break;
        }
    }

    /// <summary>"a/b.txt", never "/a", "../a", "a//b" or a name with a backslash or control character: so it stays below the folder it is joined to.</summary>
    private static bool IsPlainRelative(string path) =>
        !path.StartsWith('/') && !path.Contains('\\') && !path.Any(char.IsControl) && path.Split('/').All(segment => segment is not ("" or "." or ".."));

    private static string Unescaped(string location) =>
        Uri.TryCreate(location, UriKind.Absolute, out var uri) ? Uri.UnescapeDataString(uri.AbsolutePath) : location;

    /// <summary>Copies one linked file; false (with a note) when there is no link to follow, the budget is spent, or the copy failed.</summary>
    private async Task<bool> CopyAsync(string? link, string target, string what, CopyBudget budget, List<string> notes, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(link))
        {
            return false;
        }

        if (RemoteWesAnswers.Link(client.BaseUrl, link) is not { } url)
        {
            notes.Add($"The remote's {what} is '{link}', which is not a link this server can fetch.");
            return false;
        }

        // Only the remote itself is fetched from: a link to another host could make this server read an internal
        // address for whoever controls the remote's answers.
        if (Uri.Compare(url, client.BaseUrl, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) != 0)
        {
            notes.Add($"The remote's {what} is on another host ({url.GetLeftPart(UriPartial.Authority)}); it was not copied and stays at {url}.");
            return false;
        }

        if (budget.Left <= 0)
        {
            notes.Add($"The remote's {what} was not copied: MaxCopyBytes ({options.MaxCopyBytes}) is spent; it stays at {url}.");
            return false;
        }

        try
        {
            var (bytes, cut) = await client.DownloadAsync(url, target, budget.Left, cancellationToken);
            budget.Left -= bytes;
            if (cut)
            {
                notes.Add($"The remote's {what} was cut at MaxCopyBytes ({options.MaxCopyBytes}); the whole file stays at {url}.");
            }

            return true;
        }
        catch (Exception ex) when (ex is RemoteWesException or IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not copy the {What} of a run from {Remote}: {Error}", what, client.Describe(), ex.Message);
            notes.Add($"The remote's {what} could not be copied: {ex.Message}");
            return false;
        }
    }

    private sealed class CopyBudget(long bytes)
    {
        public long Left { get; set; } = bytes;
    }
}
