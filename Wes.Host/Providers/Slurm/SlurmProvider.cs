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
public sealed class SlurmProvider(
    LocalProvider local, SlurmCommands commands, SlurmJobPoller poller, IOptions<WesOptions> options, ILogger<SlurmProvider> logger)
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

    public Task<ExecutionResult> FollowAsync(ExecutionRequest request, string handle, CancellationToken stop) =>
        FollowAsync(request, handle, stop, CancellationToken.None);

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

    /// <summary>
    /// Once the engine's job has ended, the jobs it submitted are waited for (their ends are what the run's tasks
    /// show); any still queued or running after a few rounds (the engine was killed, or timed out) are canceled, so
    /// no job of an ended run is left on the cluster.
    /// </summary>
    private async Task SettleEngineJobsAsync(ExecutionRequest request, CancellationToken leave)
    {
        IReadOnlyList<string> jobs;
        try
        {
            jobs = await OwnedJobsAsync(request, leave);
        }
        catch (SlurmUnavailableException ex)
        {
            logger.LogWarning("Run {RunId}: could not ask Slurm about the jobs its engine submitted: {Message}", request.Run.RunId, ex.Message);
            return;
        }

        if (jobs.Count == 0)
        {
            return;
        }

        var rounds = TimeSpan.FromSeconds(Math.Max(2, options.Value.Slurm.PollSeconds * 3));
        if (!await EndedWithinAsync(jobs, rounds, leave))
        {
            var active = jobs.Where(id => poller.Latest(id) is not { Ended: true }).ToList();
            logger.LogWarning("Run {RunId}: canceling Slurm job(s) {Jobs} its engine left behind", request.Run.RunId, string.Join(",", active));
            try
            {
                await commands.RunAsync("scancel", active, leave);
            }
            catch (SlurmUnavailableException ex)
            {
                logger.LogWarning("Run {RunId}: scancel of the jobs its engine left failed: {Message}", request.Run.RunId, ex.Message);
            }

            await EndedWithinAsync(active, CancelPatience, leave);
        }
    }

    private async Task<bool> EndedWithinAsync(IReadOnlyList<string> jobs, TimeSpan patience, CancellationToken leave)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(leave);
        wait.CancelAfter(patience);
        try
        {
            await Task.WhenAll(jobs.Select(id => poller.WaitForEndAsync(id, wait.Token)));
            return true;
        }
        catch (OperationCanceledException) when (!leave.IsCancellationRequested)
        {
            return false;
        }
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

    /// <summary>scancel of the run's job and of every job its engine submitted, until Slurm says the run's job has ended.</summary>
    private async Task<SlurmJob> CancelAsync(ExecutionRequest request, string jobId, CancellationToken leave)
    {
        while (true)
        {
            try
            {
                IReadOnlyList<string> owned;
                try
                {
                    owned = await OwnedJobsAsync(request, leave);
                }
                catch (SlurmUnavailableException ex)
                {
                    // The run's own job goes first all the same; its engine's are canceled once Slurm answers about them.
                    logger.LogWarning("Run {RunId}: could not ask Slurm about the jobs its engine submitted: {Message}", request.Run.RunId, ex.Message);
                    owned = [];
                }

                var reply = await commands.RunAsync("scancel", [jobId, .. owned.Where(id => id != jobId)], leave);
                if (!reply.Ok)
                {
                    logger.LogWarning("Run {RunId}: scancel of Slurm job {JobId} answered {Reply}", request.Run.RunId, jobId, reply.Describe());
                }
            }
            catch (SlurmUnavailableException ex)
            {
                logger.LogWarning("Run {RunId}: scancel of Slurm job {JobId} failed: {Message}; trying again", request.Run.RunId, jobId, ex.Message);
            }

            using var patience = CancellationTokenSource.CreateLinkedTokenSource(leave);
            patience.CancelAfter(CancelPatience);
            try
            {
                return await poller.WaitForEndAsync(jobId, patience.Token);
            }
            catch (OperationCanceledException) when (!leave.IsCancellationRequested)
            {
                // Still there: the controller may have missed the first scancel.
            }
        }
    }

    /// <summary>
    /// The jobs the run's list names whose Slurm record carries the run's comment: the list is in a folder the workflow
    /// writes, so an id there is only a hint, never a reason to scancel a job.
    /// </summary>
    /// <exception cref="SlurmUnavailableException">squeue did not answer.</exception>
    private async Task<IReadOnlyList<string>> OwnedJobsAsync(ExecutionRequest request, CancellationToken cancellationToken)
    {
        var listed = SlurmJobScript.SubmittedJobs(request.Workspace);
        if (listed.Count == 0)
        {
            return [];
        }

        var comment = SlurmJobScript.RunComment(request.Run.RunId);
        var known = await poller.ListAsync(listed, cancellationToken) ?? throw new SlurmUnavailableException("squeue did not answer");
        return listed.Where(id => known.TryGetValue(id, out var job) && job.Comment == comment).ToList();
    }

    /// <summary>
    /// An earlier attempt whose start was never recorded may have left jobs: the engine's own and those it submitted,
    /// all carrying the run's comment. They are canceled and waited for before this attempt submits; when Slurm cannot
    /// say, the start fails rather than risk two jobs for one run.
    /// </summary>
    private async Task CancelLeftoversAsync(Run run, CancellationToken cancellationToken)
    {
        var comment = SlurmJobScript.RunComment(run.RunId);
        var deadline = DateTimeOffset.UtcNow + LeftoverPatience;
        var canceled = false;
        while (true)
        {
            var reply = await commands.RunAsync("squeue", ["--noheader", "--me", "--format=%i|%k|%j"], cancellationToken);
            if (!reply.Ok)
            {
                throw new SlurmUnavailableException(
                    $"squeue could not list the jobs an earlier attempt of the run may have left ({reply.Describe()}), so no job was submitted");
            }

            var leftovers = reply.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(line => line.Split('|', 3)).Where(p => p.Length == 3 && (p[1] == comment || p[2] == JobName(run)))
                .Select(p => p[0]).Where(id => id.All(char.IsAsciiDigit)).ToList();
            if (leftovers.Count == 0)
            {
                return;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new SlurmUnavailableException(
                    $"Slurm job(s) {string.Join(",", leftovers)} of an earlier attempt did not end within {LeftoverPatience.TotalSeconds:0} s of scancel, so no job was submitted");
            }

            if (!canceled)
            {
                logger.LogWarning("Run {RunId}: canceling Slurm job(s) {Jobs} left by an earlier attempt", run.RunId, string.Join(",", leftovers));
                await commands.RunAsync("scancel", leftovers, cancellationToken);
                canceled = true;
            }

            // squeue's default states are the active ones: polled until the jobs have left them.
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(2, options.Value.Slurm.PollSeconds)), cancellationToken);
        }
    }
}
