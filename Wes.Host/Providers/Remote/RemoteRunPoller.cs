using System.Collections.Concurrent;
using System.Text.Json;
using Wes.Runs;

namespace Wes.Providers.Remote;

/// <summary>How a watched remote run ended: its final state, or why it can no longer be followed.</summary>
public sealed record RemoteRunEnd(RunState? State, string? Problem);

/// <summary>
/// One loop per remote polls the status of every run followed there, a few calls at a time, and wakes each run's
/// follower once its run ends. While the remote fails, the loop backs off (doubling, with jitter, up to a cap); a run
/// the remote answers 404 for, or that has not been heard of for TimeoutSeconds, ends with a problem naming both.
/// </summary>
public sealed class RemoteRunPoller(RemoteWesClient client, RemoteWesOptions options, TimeProvider clock, ILogger logger)
{
    private const int ParallelCalls = 4;
    private readonly ConcurrentDictionary<string, Watch> _watched = new(StringComparer.Ordinal);
    private readonly Lock _loopLock = new();
    private Task? _loop;

    private TimeSpan Poll => TimeSpan.FromSeconds(options.PollSeconds);
    private TimeSpan Timeout => TimeSpan.FromSeconds(options.TimeoutSeconds);

    /// <summary>Longest wait between polls while the remote fails: long enough to spare it, short enough to notice the timeout.</summary>
    private TimeSpan LongestBackOff => TimeSpan.FromTicks(Math.Max(Poll.Ticks, Math.Min(Math.Min(Poll.Ticks * 8, TimeSpan.FromMinutes(1).Ticks), Timeout.Ticks / 4)));

    /// <summary>Runs this poller follows now.</summary>
    public int Watched => _watched.Count;

    /// <summary>Waits until the remote run ends (or cannot be followed); <paramref name="cancellationToken"/> only ends the wait.</summary>
    public async Task<RemoteRunEnd> WaitForEndAsync(string remoteRunId, CancellationToken cancellationToken)
    {
        var watch = _watched.AddOrUpdate(remoteRunId, _ => new Watch(clock.GetUtcNow()), (_, w) => w.Join());
        EnsureLoop();
        try
        {
            return await watch.Ended.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            if (watch.Leave() && !watch.Ended.Task.IsCompleted)
            {
                _watched.TryRemove(new KeyValuePair<string, Watch>(remoteRunId, watch));
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

            delay = failed ? TimeSpan.FromTicks(Math.Min(LongestBackOff.Ticks, delay.Ticks * 2)) : Poll;
            // Jitter keeps the pollers of several servers from calling a recovering remote at the same instant.
            await Task.Delay(delay * (0.9 + Random.Shared.NextDouble() * 0.2), clock, CancellationToken.None);
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
        await Parallel.ForEachAsync(_watched.ToArray(), new ParallelOptions { MaxDegreeOfParallelism = ParallelCalls }, async (entry, ct) =>
        {
            var (remoteRunId, watch) = entry;
            try
            {
                var state = await client.GetStatusAsync(remoteRunId, ct);
                watch.HeardAt = clock.GetUtcNow();
                if (state.IsTerminal())
                {
                    End(remoteRunId, watch, new RemoteRunEnd(state, null));
                }
            }
            catch (RemoteWesException ex) when (ex.StatusCode == 404)
            {
                End(remoteRunId, watch, new RemoteRunEnd(null, $"{ex.Message} (the remote no longer knows run {remoteRunId})"));
            }
            catch (Exception ex) when (ex is RemoteWesException or JsonException)
            {
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

    private void End(string remoteRunId, Watch watch, RemoteRunEnd end)
    {
        _watched.TryRemove(new KeyValuePair<string, Watch>(remoteRunId, watch));
        watch.Ended.TrySetResult(end);
    }

    private sealed class Watch(DateTimeOffset since)
    {
        private int _waiters = 1;

        public TaskCompletionSource<RemoteRunEnd> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When the remote last answered about the run (or when following began).</summary>
        public DateTimeOffset HeardAt { get; set; } = since;

        public Watch Join()
        {
            Interlocked.Increment(ref _waiters);
            return this;
        }

        /// <summary>True when the last waiter left.</summary>
        public bool Leave() => Interlocked.Decrement(ref _waiters) == 0;
    }
}
