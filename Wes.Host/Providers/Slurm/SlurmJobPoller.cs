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
    private const int KeptEnded = 10_000;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<SlurmJob>> _awaited = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SlurmJob> _latest = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _tracked = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Lock _loopLock = new();
    private Task? _loop;

    private SlurmOptions Settings => options.Value.Slurm;

    /// <summary>Waits until the job has ended (or Slurm no longer knows it) and answers what Slurm last said of it.</summary>
    public async Task<SlurmJob> WaitForEndAsync(string jobId, CancellationToken cancellationToken)
    {
        var waiter = _awaited.GetOrAdd(jobId, _ => new TaskCompletionSource<SlurmJob>(TaskCreationOptions.RunContinuationsAsynchronously));
        // Record sets the latest state before it takes the waiter: whichever comes second here sees the other.
        if (_latest.TryGetValue(jobId, out var known) && known.Ended)
        {
            _awaited.TryRemove(jobId, out _);
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
    public void Track(string jobId)
    {
        if (_latest.TryGetValue(jobId, out var known) && known.Ended)
        {
            return;
        }

        _tracked.TryAdd(jobId, true);
        lock (_loopLock)
        {
            _loop ??= Task.Run(LoopAsync);
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

            var answered = await PollOnceAsync();
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
            var reply = await commands.RunAsync("squeue", ["--noheader", "--states=all", "--jobs=" + string.Join(",", ids), "--format=%i|%T|%r|%N|%j"], CancellationToken.None);
            if (!reply.Ok && !reply.UnknownJob)
            {
                logger.LogWarning("squeue did not answer about {Count} Slurm job(s): {Reply}; asking again later", ids.Count, reply.Describe());
                return false;
            }

            var listed = reply.Output.Split('\n').Select(SlurmJob.FromSqueue).OfType<SlurmJob>().ToDictionary(j => j.JobId, StringComparer.Ordinal);
            foreach (var id in ids)
            {
                var job = listed.GetValueOrDefault(id);
                if (job is null || job.Ended)
                {
                    // Ended (or gone from squeue): ask once more in detail, for the exit code, or to learn it is unknown.
                    job = await DetailAsync(id, job);
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

    /// <summary>scontrol, then sacct; the job as squeue listed it if neither adds to it; null when the controller did not answer.</summary>
    private async Task<SlurmJob?> DetailAsync(string id, SlurmJob? listed)
    {
        var reply = await commands.RunAsync("scontrol", ["show", "job", "-o", id], CancellationToken.None);
        if (reply.Ok && reply.Output.Split('\n').Select(SlurmJob.FromScontrol).OfType<SlurmJob>().FirstOrDefault(j => j.JobId == id) is { } detailed)
        {
            return detailed with { Name = detailed.Name ?? listed?.Name, Nodes = detailed.Nodes ?? listed?.Nodes };
        }

        if (!reply.Ok && !reply.UnknownJob)
        {
            return null;
        }

        if (listed is not null)
        {
            return listed;
        }

        // Past MinJobAge the controller forgets a job; accounting, where the cluster has it, still knows how it ended.
        if (commands.Find("sacct") is not null)
        {
            var sacct = await commands.RunAsync("sacct", ["--noheader", "--parsable2", "--allocations", "--jobs=" + id, "--format=JobIDRaw,State,ExitCode,NodeList,JobName"], CancellationToken.None);
            var row = sacct.Ok ? sacct.Output.Split('\n').Select(l => l.Trim().Split('|', 5)).FirstOrDefault(p => p.Length == 5 && p[0] == id) : null;
            if (row is not null)
            {
                // sacct writes "CANCELLED by 0"; the first word is the state.
                return new SlurmJob(id, row[1].Split(' ')[0], Nodes: row[3], Name: row[4], ExitCode: row[2]);
            }
        }

        return new SlurmJob(id, SlurmJob.Unknown, $"squeue and scontrol answered: {reply.Describe()}");
    }

    private void Record(SlurmJob job)
    {
        _latest[job.JobId] = job;
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
