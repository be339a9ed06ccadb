using Microsoft.Extensions.Options;
using Npgsql;
using Wes.Configuration;
using Wes.Persistence;

namespace Wes.Execution;

/// <summary>
/// On PostgreSQL, LISTENs for new runs and cancels committed by any process, so an executor starts a run submitted
/// elsewhere at once instead of at its next poll, and stops a canceled engine at once instead of at its next beat.
/// The poll stays as the safety net: a notification missed while reconnecting only delays a run by one poll.
/// </summary>
public sealed class PostgresWakeupListener(
    IRunDatabase database, RunSignal signal, RunCancellations cancellations, IOptions<WesOptions> options,
    ILogger<PostgresWakeupListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database.Kind != DatabaseKind.PostgreSql || options.Value.MaxConcurrentRuns == 0)
        {
            return;
        }

        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException)
            {
                logger.LogWarning(ex, "Lost the PostgreSQL notification connection; reconnecting in {Delay}", backoff);
                await Task.Delay(backoff, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                backoff = TimeSpan.FromSeconds(Math.Min(30, backoff.TotalSeconds * 2));
            }
        }
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        // A connection of its own: LISTEN belongs to a session, and pooled connections are reset between uses.
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync(stoppingToken);
        connection.Notification += (_, e) =>
        {
            if (e.Channel == NotifyChannels.Cancel)
            {
                cancellations.Stop(e.Payload, Runs.StopReason.CancelRequested);
            }
            else
            {
                signal.Notify();
            }
        };
        await using (var listen = new NpgsqlCommand($"LISTEN {NotifyChannels.Runs}; LISTEN {NotifyChannels.Cancel};", connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }

        // Whatever was submitted while this process was not listening is claimable now.
        signal.Notify();
        while (true)
        {
            await connection.WaitAsync(stoppingToken);
        }
    }
}
