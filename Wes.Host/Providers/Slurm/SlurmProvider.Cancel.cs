using Wes.Runs;

namespace Wes.Providers.Slurm;

/// <summary>Ending a run's jobs: on cancel, once the engine's job ended, and what an earlier attempt left.</summary>
public sealed partial class SlurmProvider
{
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
        using var timer = new CancellationTokenSource(patience, clock);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(leave, timer.Token);
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

            using var timer = new CancellationTokenSource(CancelPatience, clock);
            using var patience = CancellationTokenSource.CreateLinkedTokenSource(leave, timer.Token);
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
    /// writes, so an id there is only a hint, never a reason to scancel a job. The poller's record serves where it
    /// shows a comment; squeue is asked only about the rest.
    /// </summary>
    /// <exception cref="SlurmUnavailableException">squeue did not answer.</exception>
    private async Task<IReadOnlyList<string>> OwnedJobsAsync(ExecutionRequest request, CancellationToken cancellationToken)
    {
        var listed = SlurmJobScript.SubmittedJobs(request.Workspace);
        if (listed.Count == 0)
        {
            return [];
        }

        // A record without a comment (an id Slurm did not know yet, or one only accounting knows) is asked about
        // again: the id may since have become a job of the run.
        var records = listed.ToDictionary(id => id, id => poller.Latest(id) is { Comment: not null, State: not SlurmJob.Unknown } job ? job : null,
            StringComparer.Ordinal);
        var unknown = records.Where(p => p.Value is null).Select(p => p.Key).ToList();
        if (unknown.Count > 0)
        {
            var listedNow = await poller.ListAsync(unknown, cancellationToken) ?? throw new SlurmUnavailableException("squeue did not answer");
            foreach (var id in unknown)
            {
                records[id] = listedNow.GetValueOrDefault(id);
            }
        }

        var comment = SlurmJobScript.RunComment(request.Run.RunId);
        return listed.Where(id => records[id]?.Comment == comment).ToList();
    }

    /// <summary>
    /// An earlier attempt whose start was never recorded may have left jobs: the engine's own and those it submitted,
    /// all carrying the run's comment. They are canceled and waited for before this attempt submits; when Slurm cannot
    /// say, the start fails rather than risk two jobs for one run.
    /// </summary>
    private async Task CancelLeftoversAsync(Run run, CancellationToken cancellationToken)
    {
        var comment = SlurmJobScript.RunComment(run.RunId);
        // squeue's default states are the active ones: only jobs that still run or wait are listed.
        var reply = await commands.RunAsync("squeue", ["--noheader", "--all", "--me", "--format=%i|%k|%j"], cancellationToken);
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

        logger.LogWarning("Run {RunId}: canceling Slurm job(s) {Jobs} left by an earlier attempt", run.RunId, string.Join(",", leftovers));
        await commands.RunAsync("scancel", leftovers, cancellationToken);
        if (!await EndedWithinAsync(leftovers, LeftoverPatience, cancellationToken))
        {
            throw new SlurmUnavailableException(
                $"Slurm job(s) {string.Join(",", leftovers)} of an earlier attempt did not end within {LeftoverPatience.TotalSeconds:0} s of scancel, so no job was submitted");
        }
    }
}
