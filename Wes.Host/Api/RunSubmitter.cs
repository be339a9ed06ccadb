using System.Security.Cryptography;
using System.Text.Json;
using FluentValidation;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Observability;
using Wes.Persistence;
using Wes.Providers;
using Wes.Runs;
using Wes.Security;

namespace Wes.Api;

/// <summary>
/// Records a validated submission: attachments, if any, are written to a staging folder and moved into place; the
/// <see cref="SubmissionBatcher"/> then makes them durable and commits the QUEUED row (holding the request) with the
/// other submissions waiting, and the store tells the executor. It never runs work itself.
/// </summary>
public sealed class RunSubmitter(
    RunStore store, SubmissionBatcher batcher, EngineCatalog catalog, IEnumerable<IExecutionProvider> providers, IValidator<RunSubmission> validator,
    IOptions<WesOptions> options, TimeProvider clock, ILogger<RunSubmitter> logger)
{
    private readonly IExecutionProvider _defaultProvider = ExecutionProviders.Default(providers, options.Value);
    private readonly IReadOnlyList<IExecutionProvider> _offered = ExecutionProviders.Offered(providers, options.Value);

    public async Task<string> SubmitAsync(RunSubmission submission, WesCaller caller, string? idempotencyKey, CancellationToken cancellationToken)
    {
        // A retry of a stored submission is answered with its run before anything else is checked, so it gets the
        // first answer even when the queue has filled since. A body that could not be read is never "the same
        // request": its fingerprint would lose what was wrong with it, so it goes on to get its 400.
        var key = idempotencyKey is null ? null : await KeyClaimAsync(submission, caller, idempotencyKey, cancellationToken);
        if (key is not null && IsReadable(submission) && await EarlierRunAsync(key, cancellationToken) is { } earlier)
        {
            return earlier;
        }

        // The queue limit is enforced under the insert's lock (RunStore.InsertBatchAsync), once per owner per batch of
        // submissions. A submission with attachments is also refused here, before its files are written; one without
        // writes nothing before that check, and counting a long queue for every request would cost more than it saves.
        var maxQueued = options.Value.Limits.MaxQueuedRunsPerUser;
        if (submission.Attachments.Count > 0 && await store.IsQueueFullAsync(caller.User, maxQueued, cancellationToken))
        {
            throw QueueFull(caller, maxQueued);
        }

        var provider = ChooseProvider(submission);
        submission.Available = await provider.GetEnginesAsync(cancellationToken);
        // A remote may run types and engines this server does not register (WDL on Cromwell): they count as known too.
        submission.Engines = [.. catalog.Registered, .. submission.Available.Select(a => a.Engine).Where(e => !catalog.Registered.Contains(e))];
        var validation = await validator.ValidateAsync(submission, cancellationToken);
        if (!validation.IsValid)
        {
            throw new ApiException(StatusCodes.Status400BadRequest,
                string.Join(" ", validation.Errors.Select(e => e.ErrorMessage).Distinct()));
        }

        var chosen = submission.ResolveEngine()!;
        var engine = chosen.Engine;
        var runId = NewRunId();
        var request = submission.ToRequestJson();
        var run = new Run
        {
            RunId = runId,
            State = RunState.Queued.ToWes(),
            SubmittedAt = clock.GetUtcNow().ToUnixTimeMilliseconds(),
            Provider = provider.Name,
            Owner = caller.User,
            WorkflowType = engine.WorkflowType,
            WorkflowTypeVersion = engine.NormalizeTypeVersion(submission.WorkflowTypeVersion!)!,
            WorkflowUrl = submission.WorkflowUrl!,
            Engine = engine.Name,
            EngineVersion = chosen.Version,
            RequestJson = request.ToJsonString(),
            TagsJson = request["tags"]!.ToJsonString(),
        };

        // A submission without attachments has no files: its folder is made when the run is prepared.
        var workspace = new RunWorkspace(options.Value.RunsDir, runId);
        var hasFiles = submission.Attachments.Count > 0;
        if (hasFiles)
        {
            await StageAsync(workspace, submission, cancellationToken);
        }

        InsertOutcome outcome;
        try
        {
            outcome = await batcher.InsertAsync(new RunInsert(run, caller.Actor, maxQueued, key), hasFiles, cancellationToken);
        }
        catch (SubmissionsClosedException ex)
        {
            RemoveUnsubmitted(workspace.Root);
            throw new ApiException(StatusCodes.Status503ServiceUnavailable, ex.Message);
        }
        catch
        {
            RemoveUnsubmitted(workspace.Root);
            throw;
        }

        if (outcome != InsertOutcome.Inserted)
        {
            RemoveUnsubmitted(workspace.Root);
            // KeyTaken: a request with the same key committed first (a concurrent retry); answer with its run.
            return outcome == InsertOutcome.KeyTaken
                ? await EarlierRunAsync(key!, cancellationToken) ?? throw new ApiException(StatusCodes.Status409Conflict,
                    $"Another request with this {IdempotencyKeys.Header} was being stored at the same time; retry.")
                : throw QueueFull(caller, maxQueued);
        }

        using (RunLogScope.Begin(logger, run, out _))
        {
            logger.LogInformation("Run {RunId} submitted by {Actor}", runId, caller.Actor);
        }

        return runId;
    }

    /// <summary>Whether a live submission already holds this caller's Idempotency-Key (a retry, which stores nothing new).</summary>
    public async Task<bool> IsStoredKeyAsync(WesCaller caller, string? idempotencyKey, CancellationToken cancellationToken)
    {
        if (idempotencyKey is null)
        {
            return false;
        }

        var validFrom = (clock.GetUtcNow() - options.Value.Idempotency.KeyLifetime).ToUnixTimeMilliseconds();
        return await store.FindSubmissionKeyAsync(IdempotencyKeys.Scope(caller), idempotencyKey, validFrom, cancellationToken) is not null;
    }

    /// <summary>The provider the run's "wes.provider" tag names (400 when this server has none by that name), else the default.</summary>
    private IExecutionProvider ChooseProvider(RunSubmission submission)
    {
        if (submission.Tags.Error is not null)
        {
            // The tags' own problem is reported by the validator, with the rest.
            return _defaultProvider;
        }

        return ExecutionProviders.Choose(_offered, _defaultProvider, submission.Tags.Value) ??
            throw new ApiException(StatusCodes.Status400BadRequest,
                $"tags: {ExecutionProviders.Tag} must name one of the providers runs may use here: " +
                string.Join(", ", _offered.Select(p => p.Name).Order(StringComparer.OrdinalIgnoreCase)) + " (WES_PROVIDERS).");
    }

    private async Task<SubmissionKeyClaim> KeyClaimAsync(RunSubmission submission, WesCaller caller, string key, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var row = new SubmissionKey
        {
            Scope = IdempotencyKeys.Scope(caller),
            Key = key,
            RequestHash = await IdempotencyKeys.FingerprintAsync(submission.ToRequestJson(), submission.Attachments, cancellationToken),
            CreatedAt = now.ToUnixTimeMilliseconds(),
        };
        return new SubmissionKeyClaim(row, (now - options.Value.Idempotency.KeyLifetime).ToUnixTimeMilliseconds());
    }

    /// <summary>The run a live key was stored with, if the request is the same; 422 if the key came with another request.</summary>
    private async Task<string?> EarlierRunAsync(SubmissionKeyClaim claim, CancellationToken cancellationToken)
    {
        var stored = await store.FindSubmissionKeyAsync(claim.Row.Scope, claim.Row.Key, claim.ValidFrom, cancellationToken);
        if (stored is null)
        {
            return null;
        }

        return stored.RequestHash == claim.Row.RequestHash
            ? stored.RunId
            : throw new ApiException(StatusCodes.Status422UnprocessableEntity,
                $"This {IdempotencyKeys.Header} was used for a different request (run {stored.RunId}) within the last " +
                $"{options.Value.Idempotency.KeyHours.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)} h; " +
                "send a new key with a new request.");
    }

    private static bool IsReadable(RunSubmission submission) =>
        submission.ReadErrors.Count == 0 &&
        new[] { submission.WorkflowParams, submission.Tags, submission.WorkflowEngineParameters }.All(field => field.Error is null);

    private static ApiException QueueFull(WesCaller caller, int maxQueued) =>
        new(StatusCodes.Status429TooManyRequests,
            $"{(caller.User is null ? "The server" : $"User '{caller.User}'")} already has {maxQueued} queued run(s) (WES_MAX_QUEUED_PER_USER); " +
            "wait for some to start, or cancel some, then submit again.");

    /// <summary>128 random bits: run ids cannot be guessed from one another.</summary>
    private static string NewRunId() => new Guid(RandomNumberGenerator.GetBytes(16)).ToString("D");

    private async Task StageAsync(RunWorkspace workspace, RunSubmission submission, CancellationToken cancellationToken)
    {
        var staging = new RunWorkspace(options.Value.RunsDir, RunWorkspace.StagingPrefix + Path.GetFileName(workspace.Root));
        Directory.CreateDirectory(staging.ExeDir);
        try
        {
            foreach (var attachment in submission.Attachments)
            {
                var target = staging.ResolveAttachment(RunSubmissionValidator.NormalizeRelative(attachment.Name))
                    ?? throw new ApiException(StatusCodes.Status400BadRequest, $"workflow_attachment '{attachment.Name}' would leave the run directory.");
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                await using var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, true);
                await attachment.File.CopyToAsync(file, cancellationToken);
                // One file-system sync for the whole batch makes it durable (see SubmissionBatcher).
                file.Flush(flushToDisk: FileSystemSync.FlushEachFile);
            }

            var staged = submission.Attachments.Select(a => RunSubmissionValidator.NormalizeRelative(a.Name)).ToHashSet(StringComparer.Ordinal);
            var budget = new UnpackBudget(options.Value.UnpackMaxBytes, options.Value.UnpackMaxEntries);
            foreach (var zip in AttachmentUnpacker.Requested(submission.Tags.Value))
            {
                await AttachmentUnpacker.UnpackAsync(staging, zip, staged, budget, cancellationToken);
            }

            Directory.Move(staging.Root, workspace.Root);
        }
        catch
        {
            RemoveUnsubmitted(staging.Root);
            throw;
        }
    }

    /// <summary>
    /// Removes the folder of a submission that failed. On a full or failing disk the removal can fail too; that must
    /// not replace the error the client is told about, and the WorkspaceJanitor removes whatever is left later.
    /// </summary>
    private static void RemoveUnsubmitted(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the janitor, which logs what it removes.
        }
    }
}
