using System.Diagnostics.Metrics;
using Wes.Persistence;
using Wes.Runs;

namespace Wes.Observability;

/// <summary>
/// Runs per state for the wes_runs gauge. A gauge is read by a synchronous callback on every scrape, so it answers
/// the last counts at once and, when they are older than <see cref="Fresh"/>, starts one refresh in the background:
/// a burst of scrapes costs the database at most one small query every two seconds.
/// </summary>
public sealed class RunStateGauge(RunStore store, TimeProvider clock, ILogger<RunStateGauge> logger)
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(2);

    private volatile IReadOnlyList<Measurement<long>> _last = [];
    private long _readAt;
    private int _refreshing;

    public IEnumerable<Measurement<long>> Observe()
    {
        var readAt = Interlocked.Read(ref _readAt);
        if ((readAt == 0 || clock.GetElapsedTime(readAt) >= Fresh) && Interlocked.CompareExchange(ref _refreshing, 1, 0) == 0)
        {
            _ = RefreshAsync();
        }

        return _last;
    }

    private async Task RefreshAsync()
    {
        try
        {
            var counts = await store.CountByStateAsync(CancellationToken.None);
            _last = counts.OrderBy(count => count.Key)
                .Select(count => new Measurement<long>(count.Value, new KeyValuePair<string, object?>("state", count.Key.ToWes())))
                .ToList();
            Interlocked.Exchange(ref _readAt, clock.GetTimestamp());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The last counts stay; the next scrape tries again.
            logger.LogWarning(ex, "Reading the run counts for the metrics failed");
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }
}
