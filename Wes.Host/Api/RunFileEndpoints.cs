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
        var runs = group.MapGroup("/runs").WithTags("Run files (extension)").WithMetadata(ApiErrors.Declared(StatusCodes.Status404NotFound));
        runs.MapGet("/{run_id}/outputs", ListOutputsAsync).WithName(names + "ListRunOutputs");
        runs.MapGet("/{run_id}/outputs/{**path}", GetOutputAsync).WithName(names + "GetRunOutput");
        runs.MapGet("/{run_id}/tasks/{task_id}/stdout", (string run_id, string task_id, RunStore store, IOptions<WesOptions> options, CancellationToken ct) =>
            TaskLogAsync(run_id, task_id, TaskLogStream.Stdout, store, options, ct)).WithName(names + "GetTaskStdout");
        runs.MapGet("/{run_id}/tasks/{task_id}/stderr", (string run_id, string task_id, RunStore store, IOptions<WesOptions> options, CancellationToken ct) =>
            TaskLogAsync(run_id, task_id, TaskLogStream.Stderr, store, options, ct)).WithName(names + "GetTaskStderr");
        return group;
    }

    /// <summary>The files below the run's outputs folder, by path, paged by position like the other lists.</summary>
    private static async Task<Results<Ok<OutputListResponse>, JsonHttpResult<ErrorResponse>>> ListOutputsAsync(
        string run_id, string? page_size, string? page_token, HttpRequest request, RunStore store, PageTokens tokens, RunViews views,
        IOptions<WesOptions> options, CancellationToken ct)
    {
        var size = RunEndpoints.PageSize(page_size, options.Value);
        if (await store.GetStateAsync(run_id, ct) is null)
        {
            return RunEndpoints.NotFound(run_id);
        }

        var scope = "outputs:" + run_id;
        var skip = page_token is { Length: > 0 } ? (int)await tokens.ReadAsync(scope, page_token, ct) : 0;
        var files = OutputFiles.List(new RunWorkspace(options.Value.RunsDir, run_id).OutputsDir);
        var outputsUrl = $"{views.ApiBase(request)}/runs/{run_id}/outputs";
        var page = files.Skip(skip).Take(size).Select(f => new OutputFileEntry(
            f.RelativePath, f.Size, f.ModifiedUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            OutputLinks.Url(outputsUrl, f.RelativePath))).ToList();
        var next = files.Count > skip + size ? await tokens.CreateAsync(scope, skip + size, ct) : "";
        return TypedResults.Ok(new OutputListResponse(run_id, page, next));
    }

    /// <summary>Streams one output file with its length and type; byte ranges work.</summary>
    private static async Task<IResult> GetOutputAsync(string run_id, string path, RunStore store, IOptions<WesOptions> options, CancellationToken ct)
    {
        if (await store.GetStateAsync(run_id, ct) is null)
        {
            return RunEndpoints.NotFound(run_id);
        }

        if (OutputPathProblem(path) is { } problem)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"Output path '{path}' {problem}.");
        }

        var outputs = new RunWorkspace(options.Value.RunsDir, run_id).OutputsDir;
        if (PathConfinement.Inside(outputs, Path.Combine(outputs, path)) is not { } real || !File.Exists(real))
        {
            return TypedResults.Json(new ErrorResponse($"Run '{run_id}' has no output file '{path}'.", 404), statusCode: 404);
        }

        var type = ContentTypes.TryGetContentType(real, out var known) ? known : "application/octet-stream";
        return TypedResults.PhysicalFile(real, type, Path.GetFileName(path), enableRangeProcessing: true);
    }

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
        if (await store.GetTaskAsync(runId, taskId, ct) is null)
        {
            return await store.GetStateAsync(runId, ct) is null
                ? RunEndpoints.NotFound(runId)
                : TypedResults.Json(new ErrorResponse($"Run '{runId}' has no task '{taskId}'.", 404), statusCode: 404);
        }

        var workspace = new RunWorkspace(options.Value.RunsDir, runId);
        // The link may point anywhere the engine wrote; only a file inside the run's folder is served.
        var real = PathConfinement.Inside(workspace.Root, workspace.TaskLogPath(taskId, stream));
        var name = stream == TaskLogStream.Stdout ? "stdout" : "stderr";
        return real is not null && File.Exists(real)
            ? TypedResults.PhysicalFile(real, "text/plain; charset=utf-8", enableRangeProcessing: true)
            : TypedResults.Json(new ErrorResponse($"Task '{taskId}' of run '{runId}' has no {name} log; its engine keeps none for it.", 404), statusCode: 404);
    }
}
