using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution.Engines;
using Wes.Runs;

namespace Wes.Providers.Slurm;

/// <summary>
/// Runs each run's engine as one Slurm batch job, on a run directory the cluster's nodes share. The run is prepared
/// as the Local provider prepares it (same command, same sandbox); the job script in the run directory starts that
/// command on a node, and its outputs are collected the same way once the job ends. The handle is "slurm:&lt;job id&gt;";
/// the job is followed by the one <see cref="SlurmJobPoller"/>, so no worker waits on it and a restarted executor
/// follows it again by its id.
/// </summary>
public sealed partial class SlurmProvider(
    LocalProvider local, SlurmCommands commands, SlurmJobPoller poller, IOptions<WesOptions> options, TimeProvider clock,
    ILogger<SlurmProvider> logger)
    : IDetachedProvider
{
    public const string ProviderName = "Slurm";
    public const string HandlePrefix = "slurm:";
    private static readonly TimeSpan CancelPatience = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan LeftoverPatience = TimeSpan.FromSeconds(60);

    // The job an execution became, for its tasks: a fresh run has no recorded handle until the start is written.
    private readonly ConditionalWeakTable<ExecutionRequest, string> _jobs = [];

    // Each job of an execution, waited for once: an ended job is read from here, never asked about again.
    private readonly ConditionalWeakTable<ExecutionRequest, ConcurrentDictionary<string, Task<SlurmJob>>> _ends = [];

    public string Name => ProviderName;

    public bool IsOn => SlurmOptions.IsOn(options.Value);

    public bool OfferedByDefault => IsOn;

    /// <summary>Only where Slurm is on and its client is found can a run's job be followed (and so adopted).</summary>
    public bool CanFollow => IsOn && commands.Find("sbatch") is not null && commands.Find("squeue") is not null;

    /// <summary>The engines of this host, which the nodes must have at the same paths; none while Slurm is off or missing.</summary>
    public async Task<IReadOnlyList<AvailableEngine>> GetEnginesAsync(CancellationToken cancellationToken) =>
        IsOn && commands.Find("sbatch") is not null ? await local.GetEnginesAsync(cancellationToken) : [];

    public async Task<PreparedWork> PrepareAsync(ExecutionRequest request, CancellationToken cancellationToken)
    {
        var sbatch = commands.Find("sbatch") ?? throw new PreparationException(
            "sbatch not found; install the Slurm client (slurm-client) on this host or set WES_SLURM_BIN, then resubmit the run.");
        var work = await local.PrepareAsync(request, cancellationToken);
        var workspace = request.Workspace;
        var script = await SlurmJobScript.WriteAsync(workspace, request.Run.RunId, sbatch, cancellationToken);
        List<string> submit =
        [
            sbatch, "--parsable", "--job-name=" + JobName(request.Run), "--comment=" + SlurmJobScript.RunComment(request.Run.RunId), "--chdir=" + workspace.ExeDir,
            "--output=" + SlurmJobScript.OutputPattern(workspace.StdoutPath), "--error=" + SlurmJobScript.OutputPattern(workspace.StderrPath),
            .. SlurmResources.Arguments(request.Run.ReadTags(), options.Value.Slurm),
            script, .. work.Launch ?? work.Command,
        ];
        return new PreparedWork(work.Command, submit);
    }

    public async Task<string> StartAsync(ExecutionRequest request, PreparedWork work, CancellationToken cancellationToken)
    {
        // An earlier attempt whose start was never recorded (its executor died right after sbatch) may still have a
        // job; it goes before this attempt's job is submitted, so the run never has two.
        await CancelLeftoversAsync(request.Run, cancellationToken);
        SlurmJobScript.ForgetSubmittedJobs(request.Workspace);
        var reply = await commands.RunAsync("sbatch", work.Launch!.Skip(1).ToList(), cancellationToken);
        var jobId = reply.Ok ? reply.Output.Trim().Split(';')[0] : "";
        if (jobId.Length == 0 || !jobId.All(char.IsAsciiDigit))
        {
            throw new SlurmUnavailableException($"sbatch refused the job: {reply.Describe()}");
        }

        _jobs.AddOrUpdate(request, jobId);
        logger.LogInformation("Run {RunId} submitted as Slurm job {JobId}", request.Run.RunId, jobId);
        return HandlePrefix + jobId;
    }

    public async Task<ExecutionResult> FollowAsync(ExecutionRequest request, string handle, CancellationToken cancel, CancellationToken leave)
    {
        if (JobId(handle) is not { } jobId)
        {
            return new ExecutionResult(ExecutionOutcome.SystemError, Message: $"The run's handle '{handle}' does not name a Slurm job.");
        }

        _jobs.AddOrUpdate(request, jobId);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancel, leave);
        SlurmJob job;
        try
        {
            job = await WaitForEndAsync(request, jobId, either.Token);
        }
        catch (OperationCanceledException) when (leave.IsCancellationRequested)
        {
            throw new OperationCanceledException(leave);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            job = await CancelAsync(request, jobId, leave);
            await SettleEngineJobsAsync(request, leave);
            return new ExecutionResult(ExecutionOutcome.Stopped, job.ExitCodeNumber, Message: job.Describe());
        }

        await SettleEngineJobsAsync(request, leave);
        return Result(request, job);
    }

    /// <summary>The job's end; on the way, the run is marked running once the poller first sees the job out of the queue.</summary>
    private async Task<SlurmJob> WaitForEndAsync(ExecutionRequest request, string jobId, CancellationToken cancellationToken)
    {
        var end = poller.WaitForEndAsync(jobId, cancellationToken);
        var start = poller.WaitForStartAsync(jobId, cancellationToken);
        if (await Task.WhenAny(end, start) == start && start.IsCompletedSuccessfully && (await start).Started)
        {
            await request.MarkRunningAsync(cancellationToken);
        }

        return await end;
    }

    public IReadOnlyList<RunTask> ReadTasks(ExecutionRequest request)
    {
        var tasks = local.ReadTasks(request).ToList();
        var jobs = SlurmJobScript.SubmittedJobs(request.Workspace).ToList();
        if (_jobs.TryGetValue(request, out var leader))
        {
            jobs.Insert(0, leader);
        }

        var ends = _ends.GetValue(request, _ => new ConcurrentDictionary<string, Task<SlurmJob>>(StringComparer.Ordinal));
        var comment = SlurmJobScript.RunComment(request.Run.RunId);
        foreach (var id in jobs.Distinct(StringComparer.Ordinal))
        {
            var end = ends.GetOrAdd(id, key => poller.WaitForEndAsync(key, CancellationToken.None));
            var job = end.IsCompletedSuccessfully ? end.Result : poller.Latest(id);
            if (id != leader && job is not null && job.Comment != comment)
            {
                // Listed in the run's folder but not submitted for this run (another run's job, or no job at all).
                continue;
            }

            tasks.Add(new RunTask
            {
                TaskId = "slurm-" + id,
                Name = id == leader ? $"Slurm job {id}: the {request.Engine.Name} engine" : $"Slurm job {id}: {job?.Name ?? "submitted by the engine"}",
                ExitCode = job?.Ended == true ? job.ExitCodeNumber : null,
                SystemLogsJson = new JsonArray(job?.Describe() ?? $"Slurm job {id} submitted").ToJsonString(),
            });
        }

        return tasks;
    }

    /// <summary>The Slurm job id in a handle, or null when the handle is not this provider's.</summary>
    public static string? JobId(string handle) =>
        handle.StartsWith(HandlePrefix, StringComparison.Ordinal) && handle[HandlePrefix.Length..] is { Length: > 0 } id && id.All(char.IsAsciiDigit)
            ? id
            : null;

    private static string JobName(Run run) => "wes-" + run.RunId;

    private ExecutionResult Result(ExecutionRequest request, SlurmJob job)
    {
        var engine = request.Engine.Name;
        switch (job.Outcome)
        {
            case ExecutionOutcome.Succeeded:
                var outputs = local.CollectOutputs(request);
                return new ExecutionResult(ExecutionOutcome.Succeeded, 0, outputs ?? [],
                    job.Describe() + (outputs is null ? $"; {engine} reported no outputs object, so outputs are empty." : "."));
            case ExecutionOutcome.Failed:
                return new ExecutionResult(ExecutionOutcome.Failed, job.ExitCodeNumber ?? 1, local.CollectOutputs(request),
                    $"{job.Describe()}; see the run's stderr log.");
        }

        var message = job.State switch
        {
            SlurmJob.Unknown => $"{job.Describe()}: it may have ended longer ago than the controller remembers jobs (MinJobAge) " +
                "with no accounting (sacct) to ask; the run's outcome is unknown.",
            "NODE_FAIL" or "PREEMPTED" or "BOOT_FAIL" => $"{job.Describe()}: the cluster, not the workflow, ended it.",
            "CANCELLED" => $"{job.Describe()}: it was canceled outside this server (scancel by a user or an administrator).",
            _ => job.Describe() + ".",
        };
        // A job Slurm forgot may have done its work, and one canceled by someone else was meant to stop: another
        // attempt would do harm either way. A lost node or a preemption stays the retry policy's to decide.
        return new ExecutionResult(ExecutionOutcome.SystemError, job.ExitCodeNumber, Message: message)
        {
            Retryable = job.State is not (SlurmJob.Unknown or "CANCELLED"),
        };
    }
}
