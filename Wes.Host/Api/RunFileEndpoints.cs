using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Persistence;

namespace Wes.Api;

/// <summary>
/// Extension endpoints for a run's files: its output files (listed and downloaded) and its tasks' own logs. Every path
/// is resolved with its links and served only if it stays inside the run's outputs folder (or, for logs, its folder).
/// </summary>
public static class RunFileEndpoints
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    /// <param name="names">Prefix that keeps endpoint names unique when the group is mapped under a second base path.</param>
    public static RouteGroupBuilder MapRunFileEndpoints(this RouteGroupBuilder group, string names)
    {
        var runs = group.MapGroup("/runs").WithTags("Run files (extension)")
            .WithMetadata(ApiErrors.Declared(StatusCodes.Status404NotFound), ApiErrors.Declared(StatusCodes.Status410Gone));
        runs.MapGet("/{run_id}/outputs", ListOutputsAsync).WithName(names + "ListRunOutputs");
        runs.MapGet("/{run_id}/outputs/{**path}", GetOutputAsync).WithName(names + "GetRunOutput");
        runs.MapGet("/{run_id}/tasks/{task_id}/stdout", (string run_id, string task_id, RunStore store, IOptions<WesOptions> options, CancellationToken ct) =>
            TaskLogAsync(run_id, task_id, TaskLogStream.Stdout, store, options, ct)).WithName(names + "GetTaskStdout");
        runs.MapGet("/{run_id}/tasks/{task_id}/stderr", (string run_id, string task_id, RunStore store, IOptions<WesOptions> options, CancellationToken ct) =>
            TaskLogAsync(run_id, task_id, TaskLogStream.Stderr, store, options, ct)).WithName(names + "GetTaskStderr");
        return group;
    }

    /// <summary>
    /// The files below the run's outputs folder, by path. The token holds the last path served, so a page reads only
    /// the folders it needs and files added or removed meanwhile do not shift later pages.
    /// </summary>
    private static async Task<Results<Ok<OutputListResponse>, JsonHttpResult<ErrorResponse>>> ListOutputsAsync(
        string run_id, string? page_size, string? page_token, HttpRequest request, RunStore store, PageTokens tokens, RunViews views,
        IOptions<WesOptions> options, CancellationToken ct)
    {
        var size = RunEndpoints.PageSize(page_size, options.Value);
        if (await store.GetFileStatusAsync(run_id, ct) is not { } status)
        {
            return RunEndpoints.NotFound(run_id);
        }

        if (status.FilesRemovedAt is { } removedAt)
        {
            return RemovedRunFiles.Gone(run_id, removedAt, "its outputs are no longer available");
        }

        var scope = "outputs:" + run_id;
        var after = page_token is { Length: > 0 } ? await tokens.ReadTextAsync(scope, page_token, ct) : null;
        // One extra file tells whether another page exists.
        var files = new OutputWalk(new RunWorkspace(options.Value.RunsDir, run_id).OutputsDir).After(after).Take(size + 1).ToList();
        var outputsUrl = $"{views.ApiBase(request)}/runs/{run_id}/outputs";
        var page = files.Take(size).Select(f => new OutputFileEntry(
            f.RelativePath, f.Size, f.ModifiedUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            OutputLinks.Url(outputsUrl, f.RelativePath))).ToList();
        var next = files.Count > size ? await tokens.CreateAsync(scope, page[^1].Path, ct) : "";
        return TypedResults.Ok(new OutputListResponse(run_id, page, next));
    }

    /// <summary>Streams one output file with its length and type; byte ranges work.</summary>
    private static async Task<IResult> GetOutputAsync(string run_id, string path, RunStore store, IOptions<WesOptions> options, CancellationToken ct)
    {
        if (await store.GetFileStatusAsync(run_id, ct) is not { } status)
        {
            return RunEndpoints.NotFound(run_id);
        }

        if (status.FilesRemovedAt is { } removedAt)
        {
            return RemovedRunFiles.Gone(run_id, removedAt, $"its output '{path}' is no longer available");
        }

        if (OutputPathProblem(path) is { } problem)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"Output path '{path}' {problem}.");
        }

        var outputs = new RunWorkspace(options.Value.RunsDir, run_id).OutputsDir;
        var file = SafeFiles.OpenReadResolvedInside(outputs, Path.Combine(outputs, path), out var refusal);
        if (file is null)
        {
            var why = refusal switch
            {
                FileRefusal.NotRegular => $"Output '{path}' of run '{run_id}' is not a regular file; only regular files are served.",
                FileRefusal.HardLinked => $"Output '{path}' of run '{run_id}' has other hard links and is not served.",
                _ => $"Run '{run_id}' has no output file '{path}'.",
            };
            return TypedResults.Json(new ErrorResponse(why, 404), statusCode: 404);
        }

        var type = ContentTypes.TryGetContentType(path, out var known) ? known : "application/octet-stream";
        return Serve(file, type, Path.GetFileName(path));
    }

    /// <summary>The open file itself is streamed: opening it again by path could open something else.</summary>
    private static FileStreamHttpResult Serve(FileStream file, string contentType, string? downloadName = null) =>
        TypedResults.Stream(file, contentType, downloadName, File.GetLastWriteTimeUtc(file.SafeFileHandle), enableRangeProcessing: true);

    /// <summary>Why a requested output path is refused before the disk is looked at, or null.</summary>
    public static string? OutputPathProblem(string path)
    {
        if (path.Length == 0 || path.Any(c => c == '\0' || char.IsControl(c)))
        {
            return "is empty or has control characters";
        }

        if (path.Contains('\\') || path.Contains("%2f", StringComparison.OrdinalIgnoreCase) || path.Contains("%5c", StringComparison.OrdinalIgnoreCase))
        {
            return "has a backslash or an encoded separator; use '/' between folders";
        }

        return path.StartsWith('/') || path.Split('/').Any(segment => segment is "" or "." or "..")
            ? "must be relative to the outputs folder, without '.', '..' or empty segments"
            : null;
    }

    private static async Task<IResult> TaskLogAsync(
        string runId, string taskId, TaskLogStream stream, RunStore store, IOptions<WesOptions> options, CancellationToken ct)
    {
        taskId = RunViews.TaskIdFromRoute(taskId);
        var status = await store.GetFileStatusAsync(runId, ct);
        if (status is null || await store.GetTaskAsync(runId, taskId, ct) is null)
        {
            return status is null
                ? RunEndpoints.NotFound(runId)
                : TypedResults.Json(new ErrorResponse($"Run '{runId}' has no task '{taskId}'.", 404), statusCode: 404);
        }

        var workspace = new RunWorkspace(options.Value.RunsDir, runId);
        // The link may point anywhere the engine wrote; only a regular file inside the run's folder is served.
        var file = SafeFiles.OpenReadResolvedInside(workspace.Root, workspace.TaskLogPath(taskId, stream), out var refusal);
        var name = stream == TaskLogStream.Stdout ? "stdout" : "stderr";
        return file is not null
            ? Serve(file, "text/plain; charset=utf-8")
            : refusal == FileRefusal.Missing && status.FilesRemovedAt is { } removedAt
            ? RemovedRunFiles.Gone(runId, removedAt, $"the {name} log of task '{taskId}' was not kept")
            : TypedResults.Json(new ErrorResponse(refusal switch
            {
                FileRefusal.NotRegular => $"The {name} log of task '{taskId}' of run '{runId}' is not a regular file and is not served.",
                FileRefusal.HardLinked => $"The {name} log of task '{taskId}' of run '{runId}' has other hard links and is not served.",
                _ => $"Task '{taskId}' of run '{runId}' has no {name} log; its engine keeps none for it.",
            }, 404), statusCode: 404);
    }
}
