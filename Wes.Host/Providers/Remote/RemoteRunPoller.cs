using System.Collections.Concurrent;
using System.Text.Json;
using Wes.Runs;

namespace Wes.Providers.Remote;

/// <summary>How a watched remote run ended: its final state, or why it can no longer be followed.</summary>
public sealed record RemoteRunEnd(RunState? State, string? Problem);

/// <summary>
/// One loop per remote polls the status of every run followed there (from the remote's listing when there are
/// many, else a few status calls at a time), and wakes each run's follower once its run ends. While the remote fails, the loop backs off (doubling, with jitter, up to a cap); a run
/// the remote answers 404 for, or that has not been heard of for TimeoutSeconds, ends with a problem naming both.
/// </summary>
public sealed class RemoteRunPoller(RemoteWesClient client, RemoteWesOptions options, TimeProvider clock, ILogger logger)
{
    private const int ParallelCalls = 4;

    /// <summary>From this many followed runs on, one listing replaces most status calls.</summary>
    private const int ListingThreshold = 8;
    private const int ListingPages = 3;

    /// <summary>A remote being redeployed may answer 404 for a moment: only this many in a row mean the run is gone.</summary>
    private const int NotFoundPolls = 3;
    private readonly ConcurrentDictionary<string, Watch> _watched = new(StringComparer.Ordinal);
    private readonly Lock _loopLock = new();
    private readonly Lock _watchLock = new();
    private Task? _loop;

    private TimeSpan Poll => TimeSpan.FromSeconds(options.PollSeconds);
    private TimeSpan Timeout => TimeSpan.FromSeconds(options.TimeoutSeconds);

    /// <summary>Longest wait between polls while the remote fails: long enough to spare it, short enough to notice the timeout.</summary>
    private TimeSpan LongestBackOff => TimeSpan.FromTicks(Math.Max(Poll.Ticks, Math.Min(Math.Min(Poll.Ticks * 8, TimeSpan.FromMinutes(1).Ticks), Timeout.Ticks / 4)));

    /// <summary>Runs this poller follows now.</summary>
    public int Watched => _watched.Count;

    /// <summary>Waits until the remote run ends (or cannot be followed); <paramref name="cancellationToken"/> only ends the wait.</summary>
    /// <param name="onRunning">Called once, when the remote first reports the run running (or past it).</param>
    public async Task<RemoteRunEnd> WaitForEndAsync(string remoteRunId, CancellationToken cancellationToken, Func<CancellationToken, Task>? onRunning = null)
    {
        Watch watch;
        // Joining and leaving under one lock: a follower joining as the last one leaves must not lose its watch.
        lock (_watchLock)
        {
            watch = _watched.TryGetValue(remoteRunId, out var joined) ? joined.Join() : _watched[remoteRunId] = new Watch(clock.GetUtcNow());
        }

        EnsureLoop();
        try
        {
            if (onRunning is not null && await Task.WhenAny(watch.Started.Task, watch.Ended.Task).WaitAsync(cancellationToken) == watch.Started.Task)
            {
                await onRunning(cancellationToken);
            }

            return await watch.Ended.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            lock (_watchLock)
            {
                if (watch.Leave() && !watch.Ended.Task.IsCompleted)
                {
                    _watched.TryRemove(new KeyValuePair<string, Watch>(remoteRunId, watch));
                }
            }
        }
    }

    private void EnsureLoop()
    {
        lock (_loopLock)
        {
            if (_loop is null || _loop.IsCompleted)
            {
                _loop = Task.Run(LoopAsync, CancellationToken.None);
            }
        }
    }

    private async Task LoopAsync()
    {
        var delay = Poll;
        while (true)
        {
            // A poll interval first: a run just started needs no answer yet, and runs starting together share a round.
            await Task.Delay(delay * (0.9 + Random.Shared.NextDouble() * 0.2), clock, CancellationToken.None);
            bool failed;
            try
            {
                failed = await PollOnceAsync();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                logger.LogError(ex, "Polling {Remote} failed", client.Describe());
                failed = true;
            }

            // Jitter (above) keeps the pollers of several servers from calling a recovering remote at the same instant.
            delay = failed ? TimeSpan.FromTicks(Math.Min(LongestBackOff.Ticks, delay.Ticks * 2)) : Poll;
            lock (_loopLock)
            {
                if (_watched.IsEmpty)
                {
                    _loop = null;
                    return;
                }
            }
        }
    }

    /// <summary>One round over every watched run; true when any call failed.</summary>
    private async Task<bool> PollOnceAsync()
    {
        var failed = 0;
        var watched = _watched.ToArray();
        var listed = watched.Length >= ListingThreshold ? await ListAsync(watched.Length) : null;
        if (listed is null && watched.Length >= ListingThreshold)
        {
            failed++;
        }

        await Parallel.ForEachAsync(watched, new ParallelOptions { MaxDegreeOfParallelism = ParallelCalls }, async (entry, ct) =>
        {
            var (remoteRunId, watch) = entry;
            try
            {
                // A run the listing showed needs no call of its own.
                var state = listed is not null && listed.TryGetValue(remoteRunId, out var known) ? known : await client.GetStatusAsync(remoteRunId, ct);
                watch.HeardAt = clock.GetUtcNow();
                watch.NotFound = 0;
                if (state is RunState.Running or RunState.Paused or RunState.Canceling || state.IsTerminal())
                {
                    watch.Started.TrySetResult();
                }

                if (state.IsTerminal())
                {
                    End(remoteRunId, watch, new RemoteRunEnd(state, null));
                }
            }
            catch (RemoteWesException ex) when (ex.StatusCode == 404 && (++watch.NotFound >= NotFoundPolls || clock.GetUtcNow() - watch.HeardAt >= Timeout))
            {
                End(remoteRunId, watch, new RemoteRunEnd(null, $"{ex.Message} (the remote no longer knows run {remoteRunId})"));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Whatever went wrong with this run's answer, its timeout still ends it.
                Interlocked.Increment(ref failed);
                var silent = clock.GetUtcNow() - watch.HeardAt;
                if (silent >= Timeout)
                {
                    End(remoteRunId, watch, new RemoteRunEnd(null,
                        $"{client.Describe()} did not report run {remoteRunId} for {silent.TotalSeconds:0} s (TimeoutSeconds {options.TimeoutSeconds:0.##}); its last answer: {ex.Message}"));
                }
                else
                {
                    logger.LogWarning("Polling run {RemoteRunId} at {Remote} failed ({Silent:0} s without an answer): {Error}",
                        remoteRunId, client.Describe(), silent.TotalSeconds, ex.Message);
                }
            }
        });
        return failed > 0;
    }

    /// <summary>
    /// With many runs followed, the remote's newest runs are read from a few pages of its listing (which holds the
    /// runs we follow, as they are recent) instead of one status call each; null when the listing failed.
    /// </summary>
    private async Task<Dictionary<string, RunState>?> ListAsync(int watched)
    {
        var states = new Dictionary<string, RunState>(StringComparer.Ordinal);
        try
        {
            var pages = RemoteWesClient.PagesAsync(async token => await client.ListRunsAsync(Math.Min(500, watched * 2), token, CancellationToken.None), ListingPages);
            await foreach (var answer in pages)
            {
                // An entry without a state the listing names says nothing: its run gets a status call of its own.
                foreach (var (runId, state) in answer.Items.Where(r => r.State != RunState.Unknown))
                {
                    states.TryAdd(runId, state);
                }

                if (_watched.Keys.All(states.ContainsKey))
                {
                    break;
                }
            }

            return states;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogWarning("Listing the runs at {Remote} failed; asking for each run's status: {Error}", client.Describe(), ex.Message);
            return null;
        }
    }

    private void End(string remoteRunId, Watch watch, RemoteRunEnd end)
    {
        _watched.TryRemove(new KeyValuePair<string, Watch>(remoteRunId, watch));
        watch.Ended.TrySetResult(end);
    }

    private sealed class Watch(DateTimeOffset since)
    {
        private int _waiters = 1;

        public TaskCompletionSource<RemoteRunEnd> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Set once the remote reports the run running (or past it): it has left the remote's queue.</summary>
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When the remote last answered about the run (or when following began).</summary>
        public DateTimeOffset HeardAt { get; set; } = since;

        /// <summary>404s answered in a row; touched by the one poll loop only.</summary>
        public int NotFound { get; set; }

        public Watch Join()
        {
            Interlocked.Increment(ref _waiters);
            return this;
        }

        /// <summary>True when the last waiter left.</summary>
        public bool Leave() => Interlocked.Decrement(ref _waiters) == 0;
    }
}
