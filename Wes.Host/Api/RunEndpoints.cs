using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Persistence;
using Wes.Runs;
using Wes.Security;

namespace Wes.Api;

/// <summary>The WES run operations plus the log-text endpoints that RunLog links to.</summary>
public static class RunEndpoints
{
    /// <param name="names">Prefix that keeps endpoint names unique when the group is mapped under a second base path.</param>
    public static RouteGroupBuilder MapRunEndpoints(this RouteGroupBuilder group, string names)
    {
        var runs = group.MapGroup("/runs").WithTags("Workflow Runs").WithMetadata(ApiErrors.Declared(StatusCodes.Status404NotFound));
        runs.MapGet("", ListRunsAsync).WithName(names + "ListRuns");
        runs.MapPost("", RunWorkflowAsync).WithName(names + "RunWorkflow").DisableAntiforgery()
            .Accepts<RunRequestBody>("application/json", "multipart/form-data");
        runs.MapGet("/{run_id}", GetRunLogAsync).WithName(names + "GetRunLog");
        runs.MapGet("/{run_id}/status", GetRunStatusAsync).WithName(names + "GetRunStatus");
        runs.MapPost("/{run_id}/cancel", CancelRunAsync).WithName(names + "CancelRun");
        runs.MapGet("/{run_id}/tasks", ListTasksAsync).WithName(names + "ListTasks");
        runs.MapGet("/{run_id}/tasks/{task_id}", GetTaskAsync).WithName(names + "GetTask");
        runs.MapGet("/{run_id}/stdout", (string run_id, RunStore store, IOptions<WesOptions> options, CancellationToken ct) =>
            LogTextAsync(run_id, w => w.StdoutPath, store, options, ct)).WithName(names + "GetRunStdout");
        runs.MapGet("/{run_id}/stderr", (string run_id, RunStore store, IOptions<WesOptions> options, CancellationToken ct) =>
            LogTextAsync(run_id, w => w.StderrPath, store, options, ct)).WithName(names + "GetRunStderr");
        runs.MapGet("/{run_id}/attempts/{attempt:int}/{stream:regex(^(stdout|stderr)\\z)}",
            (string run_id, int attempt, string stream, RunStore store, IOptions<WesOptions> options, CancellationToken ct) =>
                LogTextAsync(run_id, w => attempt >= 1 && attempt <= w.ArchivedAttempts ? w.ArchivedLog(attempt, stream + ".log") : null, store, options, ct))
            .WithName(names + "GetAttemptLog");
        return group;
    }

    /// <summary>Every run for admins (and with auth off); only the caller's own runs for everyone else.</summary>
    private static async Task<Ok<RunListResponse>> ListRunsAsync(
        string? page_size, string? page_token, WesCaller caller, RunStore store, PageTokens tokens, IOptions<WesOptions> options, CancellationToken ct)
    {
        var page = await RunPaging.ReadAsync("runs", PageSize(page_size, options.Value), page_token, caller, tokens,
            async (before, limit, owner, cancellation) => (await store.ListAsync(before, limit, owner, cancellation), null), ct);
        return TypedResults.Ok(new RunListResponse(page.Runs.Select(RunViews.Summary).ToList(), page.NextPageToken));
    }

    private static async Task<Ok<RunIdResponse>> RunWorkflowAsync(
        HttpRequest request, WesCaller caller, RunSubmitter submitter, DiskGuard disk, IOptions<WesOptions> options, CancellationToken ct)
    {
        // Refused before the body is read, so a refused submission writes nothing at all. A retry whose key is already
        // stored creates nothing either, so it still gets its run's id.
        var idempotencyKey = IdempotencyKeys.Read(request.Headers);
        if (disk.Shortage() is { } shortage && !await submitter.IsStoredKeyAsync(caller, idempotencyKey, ct))
        {
            throw new ApiException(StatusCodes.Status507InsufficientStorage,
                $"The server is low on disk space and accepts no new runs for now: {shortage.Describe()}. Try again later.");
        }

        var submission = await RunSubmissionReader.ReadAsync(request, options.Value.Limits, ct);
        var runId = await submitter.SubmitAsync(submission, caller, idempotencyKey, ct);
        return TypedResults.Ok(new RunIdResponse(runId));
    }

    private static async Task<Results<Ok<RunLog>, JsonHttpResult<ErrorResponse>>> GetRunLogAsync(
        string run_id, HttpRequest request, RunStore store, RunViews views, CancellationToken ct) =>
        await store.GetAsync(run_id, ct) is { } run ? TypedResults.Ok(views.Log(run, request)) : NotFound(run_id);

    private static async Task<Results<Ok<RunStatus>, JsonHttpResult<ErrorResponse>>> GetRunStatusAsync(
        string run_id, RunStore store, CancellationToken ct) =>
        await store.GetStateAsync(run_id, ct) is { } state ? TypedResults.Ok(new RunStatus(run_id, state.ToWes())) : NotFound(run_id);

    /// <summary>
    /// QUEUED runs end CANCELED at once; INITIALIZING/RUNNING runs go to CANCELING and the executor stops the engine.
    /// A run already CANCELING or terminal is left as it is, and the answer is still 200 with its id.
    /// </summary>
    private static async Task<Results<Ok<RunIdResponse>, JsonHttpResult<ErrorResponse>>> CancelRunAsync(
        string run_id, WesCaller caller, RunStore store, CancellationToken ct)
    {
        // A claim can race the cancel; re-read and retry from the state the run is really in.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var state = await store.GetStateAsync(run_id, ct);
            if (state is null)
            {
                return NotFound(run_id);
            }

            // The store tells the executor holding the run once the change commits.
            var target = RunDecisions.CancelTarget(state.Value);
            if (target is null ||
                await store.TransitionAsync(run_id, state.Value, target.Value, TransitionChanges.None, caller.Actor, "cancel requested", ct) == TransitionOutcome.Changed)
            {
                return TypedResults.Ok(new RunIdResponse(run_id));
            }
        }

        throw new ApiException(StatusCodes.Status409Conflict, $"Run '{run_id}' kept changing state; retry the cancel.");
    }

    private static async Task<Results<Ok<TaskListResponse>, JsonHttpResult<ErrorResponse>>> ListTasksAsync(
        string run_id, string? page_size, string? page_token, HttpRequest request, RunStore store, PageTokens tokens, RunViews views,
        IOptions<WesOptions> options, CancellationToken ct)
    {
        var size = PageSize(page_size, options.Value);
        var scope = "tasks:" + run_id;
        if (await store.GetStateAsync(run_id, ct) is null)
        {
            return NotFound(run_id);
        }

        long? after = page_token is { Length: > 0 } ? await tokens.ReadAsync(scope, page_token, ct) : null;
        var rows = await store.ListTasksAsync(run_id, after, size + 1, ct);
        var page = rows.Take(size).ToList();
        var next = rows.Count > size ? await tokens.CreateAsync(scope, page[^1].Id, ct) : "";
        return TypedResults.Ok(new TaskListResponse(page.Select(task => views.Task(task, request)).ToList(), next));
    }

    private static async Task<Results<Ok<TaskLog>, JsonHttpResult<ErrorResponse>>> GetTaskAsync(
        string run_id, string task_id, HttpRequest request, RunStore store, RunViews views, CancellationToken ct)
    {
        task_id = RunViews.TaskIdFromRoute(task_id);
        if (await store.GetTaskAsync(run_id, task_id, ct) is { } task)
        {
            return TypedResults.Ok(views.Task(task, request));
        }

        return await store.GetStateAsync(run_id, ct) is null
            ? NotFound(run_id)
            : TypedResults.Json(new ErrorResponse($"Run '{run_id}' has no task '{task_id}'.", 404), statusCode: 404);
    }

    /// <summary>
    /// A log of the run, read only if it is a regular file with a single link in the run's own folder, never through a
    /// link: a workflow can put anything in its place.
    /// </summary>
    private static async Task<IResult> LogTextAsync(
        string runId, Func<RunWorkspace, string?> pick, RunStore store, IOptions<WesOptions> options, CancellationToken ct)
    {
        if (await store.GetFileStatusAsync(runId, ct) is not { } status)
        {
            return NotFound(runId);
        }

        var runsDir = options.Value.RunsDir;
        var workspace = new RunWorkspace(runsDir, runId);
        if (pick(workspace) is not { } path)
        {
            // Without kept logs retention removes the whole run folder, earlier executions' logs included.
            return status.FilesRemovedAt is { } removed && !Directory.Exists(workspace.Root)
                ? RemovedRunFiles.Gone(runId, removed, "the logs of its earlier executions were not kept")
                : TypedResults.Json(new ErrorResponse($"Run '{runId}' has no such earlier execution.", 404), statusCode: 404);
        }

        var log = SafeFiles.OpenReadInside(runsDir, Path.GetRelativePath(runsDir, path), out var refusal);
        return refusal switch
        {
            // The open file itself is streamed: opening it again by path could open something else.
            FileRefusal.None => TypedResults.Stream(log!, "text/plain; charset=utf-8", enableRangeProcessing: true),
            // Before the engine starts there is no log yet: an empty text, not an error.
            FileRefusal.Missing when status.FilesRemovedAt is { } removedAt => RemovedRunFiles.Gone(runId, removedAt, "this log was not kept"),
            FileRefusal.Missing => TypedResults.Text("", "text/plain; charset=utf-8"),
            FileRefusal.NotRegular => LogNotServed(runId, "is not a regular file"),
            FileRefusal.HardLinked => LogNotServed(runId, "has other hard links"),
            _ => LogNotServed(runId, "is not a plain file of its run directory"),
        };

        static JsonHttpResult<ErrorResponse> LogNotServed(string runId, string why) =>
            TypedResults.Json(new ErrorResponse($"The log of run '{runId}' {why} and is not served.", 404), statusCode: 404);
    }

    internal static int PageSize(string? text, WesOptions options)
    {
        if (string.IsNullOrEmpty(text))
        {
            return options.DefaultPageSize;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < 1)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"page_size must be a positive integer; got '{text}'.");
        }

        // The spec lets a server return fewer items than asked for.
        return (int)Math.Min(size, options.MaxPageSize);
    }

    internal static JsonHttpResult<ErrorResponse> NotFound(string runId) =>
        TypedResults.Json(new ErrorResponse($"Run '{runId}' not found.", 404), statusCode: 404);
}
