using Wes.Runs;

namespace Wes.Providers.Remote;

/// <summary>Passing a cancel on to the remote, and not recording it until the run has ended there.</summary>
public sealed partial class RemoteWesProvider
{
    /// <summary>
    /// Asks the remote to cancel until it takes the request or reports the run ended, then waits for the end there.
    /// A remote that neither takes it nor ends the run within TimeoutSeconds leaves the run CANCELING here (nothing is
    /// recorded) for the next executor to ask again: recording CANCELED would hide a run that still runs.
    /// </summary>
    private async Task<ExecutionResult> CancelAsync(ExecutionRequest request, string remoteRunId, CancellationToken leave)
    {
        var deadline = clock.GetUtcNow().AddSeconds(options.TimeoutSeconds);
        var delay = TimeSpan.FromSeconds(Math.Min(options.PollSeconds, 1));
        while (true)
        {
            RemoteWesException? refused = null;
            try
            {
                await client.CancelAsync(remoteRunId, leave);
                break;
            }
            catch (RemoteWesException ex) when (ex.IsRefusal)
            {
                refused = ex;
            }
            catch (RemoteWesException ex) when (clock.GetUtcNow() + delay >= deadline)
            {
                throw new RemoteWesException(
                    $"{client.Describe()} did not take the cancel of run {remoteRunId} within TimeoutSeconds ({options.TimeoutSeconds:0.##} s), and the run has not ended there: {ex.Message}",
                    ex.StatusCode, ex);
            }
            catch (RemoteWesException ex)
            {
                logger.LogWarning("Run {RunId}: cancelling at {Remote} failed, trying again: {Error}", request.Run.RunId, client.Describe(), ex.Message);
            }

            if (refused is not null)
            {
                // Many servers refuse to cancel a run that already ended: only then is the refusal an answer.
                if (await EndedAsync(remoteRunId, leave))
                {
                    break;
                }

                logger.LogWarning("Run {RunId}: {Remote} refused the cancel of run {RemoteRunId}, which still runs there: {Error}",
                    request.Run.RunId, client.Describe(), remoteRunId, refused.Message);
                if (clock.GetUtcNow() + delay >= deadline)
                {
                    throw new RemoteWesException(
                        $"{client.Describe()} refused the cancel of run {remoteRunId}, which still runs there: {refused.Message}", refused.StatusCode, refused);
                }
            }

            await Task.Delay(delay, clock, leave);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }

        var end = await _poller.WaitForEndAsync(remoteRunId, leave);
        await CollectAsync(request, remoteRunId, leave);
        return new ExecutionResult(ExecutionOutcome.Stopped, Message: end.Problem ?? $"{client.Describe()} ended run {remoteRunId} {end.State?.ToWes()} after the cancel.");
    }

    /// <summary>Whether the remote reports the run ended, or no longer knows it; false when it cannot tell.</summary>
    private async Task<bool> EndedAsync(string remoteRunId, CancellationToken cancellationToken)
    {
        try
        {
            return (await client.GetStatusAsync(remoteRunId, cancellationToken)).IsTerminal();
        }
        catch (RemoteWesException ex) when (ex.StatusCode == 404)
        {
            return true;
        }
        catch (Exception ex) when (ex is RemoteWesException or System.Text.Json.JsonException)
        {
            return false;
        }
    }
}
