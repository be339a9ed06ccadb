using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Providers.Slurm;

/// <summary>
/// The one loop that asks Slurm about every job this process follows: one squeue for all of them per round, and one
/// scontrol (then sacct) only for a job that has just ended (its exit code) or that squeue no longer lists. While the
/// controller does not answer, the rounds back off up to Wes:Slurm:MaxPollSeconds and the followers go on waiting.
/// </summary>
public sealed class SlurmJobPoller(SlurmCommands commands, IOptions<WesOptions> options, ILogger<SlurmJobPoller> logger)
{
    /// <summary>The longest --jobs= argument of one squeue; more jobs are asked about in several calls.</summary>
    internal const int MaxJobsArgument = 16_000;

    private static readonly TimeSpan FailedRoundPause = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<SlurmJob>> _awaited = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<SlurmJob>> _starts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SlurmJob> _latest = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _tracked = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Lock _loopLock = new();
    private Task? _loop;

    private SlurmOptions Settings => options.Value.Slurm;

    /// <summary>How many ended jobs are remembered before the oldest are forgotten.</summary>
    internal int KeptEnded { get; set; } = 10_000;

    /// <summary>The jobs the next round asks about.</summary>
    internal int TrackedCount => _tracked.Count;

    /// <summary>Waits until the job has ended (or Slurm no longer knows it) and answers what Slurm last said of it.</summary>
    public Task<SlurmJob> WaitForEndAsync(string jobId, CancellationToken cancellationToken) =>
        WaitAsync(_awaited, jobId, job => job.Ended, cancellationToken);

    /// <summary>
    /// Waits until the job is seen out of the queue (<see cref="SlurmJob.Started"/>) or ended, and answers what Slurm
    /// then said of it: a job that ran between two rounds is only seen ended.
    /// </summary>
    public Task<SlurmJob> WaitForStartAsync(string jobId, CancellationToken cancellationToken) =>
        WaitAsync(_starts, jobId, job => job.Started || job.Ended, cancellationToken);

    private async Task<SlurmJob> WaitAsync(
        ConcurrentDictionary<string, TaskCompletionSource<SlurmJob>> waiters, string jobId, Func<SlurmJob, bool> reached, CancellationToken cancellationToken)
    {
        var waiter = waiters.GetOrAdd(jobId, _ => new TaskCompletionSource<SlurmJob>(TaskCreationOptions.RunContinuationsAsynchronously));
        // Record sets the latest state before it takes the waiter: whichever comes second here sees the other.
        if (_latest.TryGetValue(jobId, out var known) && reached(known))
        {
            waiters.TryRemove(jobId, out _);
            waiter.TrySetResult(known);
        }
        else
        {
            Track(jobId);
            _wake.Release();
        }

        return await waiter.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Lists the job in the next rounds until it ends, so <see cref="Latest"/> knows its state and node.</summary>
    private void Track(string jobId)
    {
        if (_latest.TryGetValue(jobId, out var known) && known.Ended)
        {
            return;
        }

        _tracked.TryAdd(jobId, true);
        lock (_loopLock)
        {
            // The loop catches what each round throws; should it end all the same, the next job to follow starts it again.
            if (_loop is null || _loop.IsCompleted)
            {
                _loop = Task.Run(LoopAsync);
            }
        }
    }

    public SlurmJob? Latest(string jobId) => _latest.GetValueOrDefault(jobId);

    private async Task LoopAsync()
    {
        var delay = TimeSpan.FromSeconds(Settings.PollSeconds);
        while (true)
        {
            if (_tracked.IsEmpty)
            {
                await _wake.WaitAsync();
                continue;
            }

            bool answered;
            try
            {
                answered = await PollOnceAsync();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Whatever went wrong (a process or read error, an answer not understood), every follower waits on
                // this loop: it backs off and asks again instead of ending.
                logger.LogError(ex, "A Slurm poll round failed; asking again later");
                answered = false;
                await Task.Delay(FailedRoundPause);
            }

            delay = answered
                ? TimeSpan.FromSeconds(Settings.PollSeconds)
                : TimeSpan.FromSeconds(Math.Min(Settings.MaxPollSeconds, Math.Max(delay.TotalSeconds, Settings.PollSeconds) * 2));
            // A new job to wait for starts a round early, so a short job is not followed a whole interval late; many
            // new jobs at once (an executor adopting its runs after a restart) still start only one.
            await _wake.WaitAsync(delay);
            while (_wake.Wait(0))
            {
            }
        }
    }

    /// <summary>One round; false when the controller did not answer.</summary>
    private async Task<bool> PollOnceAsync()
    {
        var ids = _tracked.Keys.Order(StringComparer.Ordinal).ToList();
        try
        {
            var listed = await ListAsync(ids, CancellationToken.None);
            if (listed is null)
            {
                return false;
            }

            // squeue --all --states=all lists every job the controller remembers (hidden partitions too), so one it
            // leaves out only accounting may know.
            var unlisted = ids.Where(id => !listed.ContainsKey(id)).ToList();
            var accounted = unlisted.Count > 0 ? await AccountingAsync(unlisted) : new Dictionary<string, SlurmJob>();
            foreach (var id in ids)
            {
                var job = listed.GetValueOrDefault(id);
                if (job is null)
                {
                    job = accounted.GetValueOrDefault(id) ?? new SlurmJob(id, SlurmJob.Unknown, "neither squeue nor sacct lists it");
                }
                else if (job.Ended)
                {
                    // Just ended: ask once more in detail, for the exit code.
                    job = await DetailAsync(job);
                    if (job is null)
                    {
                        return false;
                    }
                }

                Record(job);
            }

            return true;
        }
        catch (SlurmUnavailableException ex)
        {
            logger.LogWarning("The Slurm controller did not answer about {Count} job(s): {Message}; asking again later", ids.Count, ex.Message);
            return false;
        }
    }

    /// <summary>
    /// What squeue says now of these jobs (ended ones too, while the controller remembers them), asked in as many calls
    /// as keep each argument list short; null when the controller did not answer.
    /// </summary>
    /// <exception cref="SlurmUnavailableException">A squeue did not answer in time or could not be started.</exception>
    public async Task<IReadOnlyDictionary<string, SlurmJob>?> ListAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var listed = new Dictionary<string, SlurmJob>(StringComparer.Ordinal);
        foreach (var chunk in Chunks(ids, MaxJobsArgument))
        {
            var reply = await commands.RunAsync(
                "squeue", ["--noheader", "--all", "--states=all", "--jobs=" + string.Join(",", chunk), "--format=" + SlurmJob.SqueueFormat], cancellationToken);
            if (!reply.Ok && !reply.UnknownJob)
            {
                logger.LogWarning("squeue did not answer about {Count} Slurm job(s): {Reply}; asking again later", chunk.Count, reply.Describe());
                return null;
            }

            // A job may be listed twice (a requeued or federated job): the last line wins.
            foreach (var job in reply.Output.Split('\n').Select(SlurmJob.FromSqueue).OfType<SlurmJob>())
            {
                listed[job.JobId] = job;
            }
        }

        return listed;
    }

    /// <summary>The ids in groups whose comma-joined length stays within <paramref name="maxLength"/>.</summary>
    internal static IEnumerable<List<string>> Chunks(IReadOnlyList<string> ids, int maxLength)
    {
        var chunk = new List<string>();
        var length = 0;
        foreach (var id in ids)
        {
            if (chunk.Count > 0 && length + 1 + id.Length > maxLength)
            {
                yield return chunk;
                chunk = [];
                length = 0;
            }

            length += (chunk.Count > 0 ? 1 : 0) + id.Length;
            chunk.Add(id);
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    /// <summary>scontrol's record of an ended job squeue listed, or squeue's when scontrol adds nothing; null when the controller did not answer.</summary>
    private async Task<SlurmJob?> DetailAsync(SlurmJob listed)
    {
        var id = listed.JobId;
        var reply = await commands.RunAsync("scontrol", ["show", "job", "-o", id], CancellationToken.None);
        if (reply.Ok && reply.Output.Split('\n').Select(SlurmJob.FromScontrol).OfType<SlurmJob>().FirstOrDefault(j => j.JobId == id) is { } detailed)
        {
            return detailed with { Name = detailed.Name ?? listed.Name, Nodes = detailed.Nodes ?? listed.Nodes, Comment = listed.Comment ?? detailed.Comment };
        }

        return !reply.Ok && !reply.UnknownJob ? null : listed;
    }

    /// <summary>
    /// Past MinJobAge the controller forgets a job; accounting, where the cluster has it, still knows how it ended.
    /// Asked in as few sacct calls as the argument length allows; empty without accounting.
    /// </summary>
    private async Task<Dictionary<string, SlurmJob>> AccountingAsync(IReadOnlyList<string> ids)
    {
        var found = new Dictionary<string, SlurmJob>(StringComparer.Ordinal);
        if (commands.Find("sacct") is null)
        {
            return found;
        }

        foreach (var chunk in Chunks(ids, MaxJobsArgument))
        {
            var sacct = await commands.RunAsync("sacct",
                ["--noheader", "--parsable2", "--allocations", "--jobs=" + string.Join(",", chunk), "--format=JobIDRaw,State,ExitCode,NodeList,JobName"],
                CancellationToken.None);
            var wanted = chunk.ToHashSet(StringComparer.Ordinal);
            foreach (var row in sacct.Ok ? sacct.Output.Split('\n').Select(l => l.Trim().Split('|', 5)).Where(p => p.Length == 5 && wanted.Contains(p[0])) : [])
            {
                // sacct writes "CANCELLED by 0"; the first word is the state.
                found[row[0]] = new SlurmJob(row[0], row[1].Split(' ')[0], Nodes: row[3], Name: row[4], ExitCode: row[2]);
            }
        }

        return found;
    }

    private void Record(SlurmJob job)
    {
        _latest[job.JobId] = job;
        if ((job.Started || job.Ended) && _starts.TryRemove(job.JobId, out var start))
        {
            start.TrySetResult(job);
        }

        if (!job.Ended)
        {
            return;
        }

        _tracked.TryRemove(job.JobId, out _);
        if (_awaited.TryRemove(job.JobId, out var waiter))
        {
            waiter.TrySetResult(job);
        }

        if (_latest.Count > KeptEnded)
        {
            // Only the jobs of runs that ended long ago are still here; what a run needs it asks for again.
            foreach (var old in _latest.Where(p => p.Value.Ended).Take(KeptEnded / 2).Select(p => p.Key).ToList())
            {
                _latest.TryRemove(old, out _);
            }
        }
    }
}
