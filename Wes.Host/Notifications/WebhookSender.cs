using System.Data.Common;
using System.Globalization;
using System.Net.Http.Headers;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Wes.Configuration;
using Wes.Execution;
using Wes.Persistence;
using Wes.Runs;

namespace Wes.Notifications;

/// <summary>
/// Sends the alerts of the outbox. It claims due alerts under a lease (so senders in several processes never send
/// one alert at once), posts each through the "webhooks" client's resilience pipeline, and records the outcome on the
/// row: delivered, tried again later (back-off in next_attempt_at), or given up once older than WES_WEBHOOK_MAX_AGE.
/// Between passes it sleeps until the next alert is due, a run of this process ends, or the poll interval passes.
/// </summary>
public sealed class WebhookSender(
    WebhookOutbox outbox, RunStore store, RunEvents events, WebhookLinks links, WebhookMetrics metrics, IHttpClientFactory clients,
    ExecutorIdentity identity, IOptions<WesOptions> options, TimeProvider clock, ILogger<WebhookSender> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";

    /// <summary>Quick retries inside one try, for a blip; longer outages are the row's back-off.</summary>
    public const int QuickRetries = 2;

    private const int BatchSize = 16;
    private static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan LongestBackoff = TimeSpan.FromHours(1);

    // One pending wake-up is enough: a pass takes every due alert, however many runs ended meanwhile.
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _nextPruneAt;

    private WebhookOptions Settings => options.Value.Webhook;
    private TimeSpan IdleInterval => TimeSpan.FromSeconds(options.Value.PollIntervalSeconds);
    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The longest one try can take: every attempt's timeout and the waits between them.</summary>
    public static TimeSpan TotalTimeout(WebhookOptions settings) =>
        TimeSpan.FromSeconds((settings.TimeoutSeconds * (QuickRetries + 1)) + (settings.RetryDelaySeconds * 8));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (outbox.Receivers.Count == 0)
        {
            return;
        }

        events.RunFinished += Wake;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await PassAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is DbException or IOException or TimeoutException)
                {
                    logger.LogWarning(ex, "Webhook alerts: the outbox could not be read or written; trying again in {Interval}", IdleInterval);
                    await WaitAsync(IdleInterval, stoppingToken);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // A failing sender must not stop the host, and with it the executor: alerts wait in the outbox.
                    logger.LogError(ex, "Webhook alerts: sending failed unexpectedly; trying again in {Interval}", IdleInterval);
                    await WaitAsync(IdleInterval, stoppingToken);
                }
            }
        }
        finally
        {
            events.RunFinished -= Wake;
        }
    }

    private void Wake(RunFinished finished) => _wake.Writer.TryWrite(true);

    private async Task PassAsync(CancellationToken stoppingToken)
    {
        await PruneIfDueAsync(stoppingToken);
        var lease = TotalTimeout(Settings) + TimeSpan.FromSeconds(30);
        var claimed = await outbox.ClaimDueAsync(identity.Id, lease, BatchSize, Now, stoppingToken);
        if (claimed.Count > 0)
        {
            await Task.WhenAll(claimed.Select(delivery => DeliverAsync(delivery, stoppingToken)));
            return;
        }

        // Nothing due: sleep until the earliest alert is (at least a moment, should a lease end just now).
        var nextDue = await outbox.NextDueAsync(stoppingToken);
        var idle = IdleInterval.TotalMilliseconds;
        await WaitAsync(TimeSpan.FromMilliseconds(nextDue is { } due ? Math.Clamp(due - Now, Math.Min(50, idle), idle) : idle), stoppingToken);
    }

    private async Task WaitAsync(TimeSpan wait, CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(wait);
        try
        {
            await _wake.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // The wait is over.
        }
    }

    private async Task PruneIfDueAsync(CancellationToken stoppingToken)
    {
        var now = Now;
        if (now < _nextPruneAt)
        {
            return;
        }

        _nextPruneAt = now + (long)PruneInterval.TotalMilliseconds;
        var removed = await outbox.PruneAsync(now - (long)TimeSpan.FromHours(Settings.KeepHours).TotalMilliseconds, stoppingToken);
        if (removed > 0)
        {
            logger.LogInformation("Webhook alerts: removed {Count} delivered or given-up alert(s) from the outbox", removed);
        }
    }

    private async Task DeliverAsync(WebhookDelivery delivery, CancellationToken stoppingToken)
    {
        var run = await store.GetAsync(delivery.RunId, stoppingToken);
        if (run is null)
        {
            await GiveUpAsync(delivery, "the run no longer exists");
            return;
        }

        // A receiver this process does not know may be known to another (settings being rolled out): it waits, up
        // to the maximum age, for a sender that has it.
        var receiver = outbox.Receivers.FirstOrDefault(r => string.Equals(r.Url, delivery.TargetUrl, StringComparison.Ordinal));
        string? error;
        try
        {
            error = receiver is null ? "the receiver is not configured in this process" : await SendAsync(receiver, delivery, run, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: hand it back untried, so the next sender need not wait for the lease to run out.
            await outbox.ReleaseAsync(delivery, identity.Id, CancellationToken.None);
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Anything else (a run row that cannot be turned into a payload) is this row's failure: it is retried and
            // finally given up like a refused delivery, never left leased to be claimed again forever.
            error = $"{ex.GetType().Name}: {ex.Message}";
        }

        if (error is null)
        {
            await outbox.FinishAsync(delivery, identity.Id, WebhookDelivery.Delivered, null, Now, CancellationToken.None);
            metrics.Count(WebhookDelivery.Delivered);
            return;
        }

        var now = Now;
        var deadline = delivery.CreatedAt + (long)TimeSpan.FromHours(Settings.MaxAgeHours).TotalMilliseconds;
        if (now >= deadline)
        {
            await GiveUpAsync(delivery, error);
            return;
        }

        // The last try is made at the deadline itself, so an alert is never dropped earlier than promised.
        var next = Math.Min(now + (long)Backoff(delivery.Attempts).TotalMilliseconds, deadline);
        await outbox.RetryLaterAsync(delivery, identity.Id, error, next, CancellationToken.None);
        metrics.Count(WebhookMetrics.FailedAttempt);
        logger.LogInformation("Webhook alert {DeliveryId} for run {RunId} to {Receiver} failed ({Error}); trying again at {Next:o}",
            delivery.DeliveryId, delivery.RunId, Authority(delivery.TargetUrl), error, DateTimeOffset.FromUnixTimeMilliseconds(next));
    }

    private async Task<string?> SendAsync(WebhookReceiver receiver, WebhookDelivery delivery, Run run, CancellationToken stoppingToken)
    {
        var body = WebhookPayload.For(run, delivery, links.ApiBase).ToUtf8Bytes();
        using var request = new HttpRequestMessage(HttpMethod.Post, receiver.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Wes-Delivery", delivery.DeliveryId);
        request.Headers.Add("X-Wes-Timestamp", clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        if (receiver.Secret is { } secret)
        {
            request.Headers.Add("X-Wes-Signature", WebhookPayload.Signature(secret, body));
        }

        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stoppingToken);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd();
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutRejectedException or BrokenCircuitException
                                   || (ex is OperationCanceledException && !stoppingToken.IsCancellationRequested))
        {
            return ex switch
            {
                BrokenCircuitException => "the receiver failed repeatedly; its circuit is open",
                TimeoutRejectedException or OperationCanceledException => "timed out",
                _ => ex.Message,
            };
        }
    }

    private async Task GiveUpAsync(WebhookDelivery delivery, string error)
    {
        await outbox.FinishAsync(delivery, identity.Id, WebhookDelivery.GaveUp, error, Now, CancellationToken.None);
        logger.LogWarning(
            "Webhook alert {DeliveryId} for run {RunId} ({State}) to {Receiver} given up after {Attempts} tries: {Error}",
            delivery.DeliveryId, delivery.RunId, delivery.State, Authority(delivery.TargetUrl), delivery.Attempts + 1, error);
        // Counted after the line is written: whoever sees the count can also find the line.
        metrics.Count(WebhookDelivery.GaveUp);
    }

    /// <summary>The wait after the n-th failed try: doubling from Wes:Webhook:RetryDelaySeconds, at most an hour, ±20% jitter.</summary>
    private TimeSpan Backoff(int failedBefore)
    {
        var seconds = Math.Min(LongestBackoff.TotalSeconds, Settings.RetryDelaySeconds * Math.Pow(2, Math.Min(failedBefore, 20)));
        return TimeSpan.FromSeconds(seconds * (0.8 + (0.4 * Random.Shared.NextDouble())));
    }

    /// <summary>Scheme, host and port only: a receiver's path or query may hold a token that logs must not show.</summary>
    private static string Authority(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : "(invalid URL)";
}
