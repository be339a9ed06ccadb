using System.Security.Cryptography;
using System.Text.Json;
using FluentValidation;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Execution.Engines;
using Wes.Persistence;
using Wes.Providers;
using Wes.Runs;
using Wes.Security;

namespace Wes.Api;

/// <summary>
/// Records a validated submission: attachments and the request are written and flushed to disk in a staging folder,
/// moved into place, and only then is the QUEUED row committed; the store then tells the executor. It never runs work itself.
/// </summary>
public sealed class RunSubmitter(
    RunStore store, EngineCatalog catalog, IEnumerable<IExecutionProvider> providers, IValidator<RunSubmission> validator,
    IOptions<WesOptions> options, TimeProvider clock)
{
    private readonly IExecutionProvider _provider = ExecutionProviders.Default(providers, options.Value);

    public async Task<string> SubmitAsync(RunSubmission submission, WesCaller caller, CancellationToken cancellationToken)
    {
        // Checked before anything is validated or written, and again under the insert's lock (see RunStore.InsertAsync).
        var maxQueued = options.Value.Limits.MaxQueuedRunsPerUser;
        if (await store.CountQueuedAsync(caller.User, cancellationToken) >= maxQueued)
        {
            throw QueueFull(caller, maxQueued);
        }

        submission.Engines = catalog.Registered;
        submission.Available = await _provider.GetEnginesAsync(cancellationToken);
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
            Provider = _provider.Name,
            Owner = caller.User,
            WorkflowType = engine.WorkflowType,
            WorkflowTypeVersion = engine.NormalizeTypeVersion(submission.WorkflowTypeVersion!)!,
            WorkflowUrl = submission.WorkflowUrl!,
            Engine = engine.Name,
            EngineVersion = chosen.Version,
            RequestJson = request.ToJsonString(),
            TagsJson = request["tags"]!.ToJsonString(),
        };

        var workspace = new RunWorkspace(options.Value.RunsDir, runId);
        await StageAsync(workspace, submission, run.RequestJson, cancellationToken);
        bool inserted;
        try
        {
            inserted = await store.InsertAsync(run, caller.Actor, maxQueued, cancellationToken);
        }
        catch
        {
            Directory.Delete(workspace.Root, recursive: true);
            throw;
        }

        if (!inserted)
        {
            Directory.Delete(workspace.Root, recursive: true);
            throw QueueFull(caller, maxQueued);
        }

        return runId;
    }

    private static ApiException QueueFull(WesCaller caller, int maxQueued) =>
        new(StatusCodes.Status429TooManyRequests,
            $"{(caller.User is null ? "The server" : $"User '{caller.User}'")} already has {maxQueued} queued run(s) (WES_MAX_QUEUED_PER_USER); " +
            "wait for some to start, or cancel some, then submit again.");

    /// <summary>128 random bits: run ids cannot be guessed from one another.</summary>
    private static string NewRunId() => new Guid(RandomNumberGenerator.GetBytes(16)).ToString("D");

    private async Task StageAsync(RunWorkspace workspace, RunSubmission submission, string requestJson, CancellationToken cancellationToken)
    {
        var staging = new RunWorkspace(options.Value.RunsDir, ".staging-" + Path.GetFileName(workspace.Root));
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
                file.Flush(flushToDisk: true);
            }

            var staged = submission.Attachments.Select(a => RunSubmissionValidator.NormalizeRelative(a.Name)).ToHashSet(StringComparer.Ordinal);
            var budget = new UnpackBudget(options.Value.UnpackMaxBytes, options.Value.UnpackMaxEntries);
            foreach (var zip in AttachmentUnpacker.Requested(submission.Tags.Value))
            {
                await AttachmentUnpacker.UnpackAsync(staging, zip, staged, budget, cancellationToken);
            }

            await using (var file = new FileStream(staging.RequestPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, true))
            {
                await file.WriteAsync(System.Text.Encoding.UTF8.GetBytes(requestJson), cancellationToken);
                file.Flush(flushToDisk: true);
            }

            Directory.Move(staging.Root, workspace.Root);
        }
        catch
        {
            if (Directory.Exists(staging.Root))
            {
                Directory.Delete(staging.Root, recursive: true);
            }

            throw;
        }
    }
}
