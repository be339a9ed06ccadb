using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Wes.Configuration;

namespace Wes.Notifications;

public static class NotificationExtensions
{
    /// <summary>
    /// The sender of webhook alerts, for processes that execute runs. Receivers are operator configuration, so their
    /// client does not go through the outbound address policy of workflow_url: loopback and private addresses work.
    /// </summary>
    public static IServiceCollection AddWesWebhookSender(this IServiceCollection services)
    {
        services.TryAddSingleton<WebhookMetrics>();
        services.TryAddSingleton<WebhookLinks>();
        // No request logging: a receiver's URL often holds its token (in the path or the query); the sender logs the host only.
        services.AddHttpClient(WebhookSender.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            // A redirect is not a delivery: followed, a 302 would turn the POST into a bodiless GET whose 200 marked
            // the alert delivered, and a 307 would send the signed body to a host nobody configured.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .AddResilienceHandler("webhook", (pipeline, context) =>
            {
                var settings = context.ServiceProvider.GetRequiredService<IOptions<WesOptions>>().Value.Webhook;
                var delay = TimeSpan.FromSeconds(settings.RetryDelaySeconds);
                pipeline
                    .AddTimeout(WebhookSender.TotalTimeout(settings))
                    .AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = WebhookSender.QuickRetries, Delay = delay, MaxDelay = delay * 4,
                        BackoffType = DelayBackoffType.Exponential, UseJitter = true,
                    })
                    // Half of the last minute's tries failing (at least four) stops tries for 30 s: a receiver that is
                    // down is not hammered by every alert of a burst of failing runs.
                    .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                    {
                        FailureRatio = 0.5, MinimumThroughput = 4, SamplingDuration = TimeSpan.FromMinutes(1), BreakDuration = TimeSpan.FromSeconds(30),
                    })
                    .AddTimeout(TimeSpan.FromSeconds(settings.TimeoutSeconds));
            })
            // A pipeline, and so a circuit breaker, per receiver; keyed by a digest, since the key shows in resilience logs.
            .SelectPipelineBy(_ => request => ReceiverKey(request.RequestUri));
        services.AddHostedService<WebhookSender>();
        return services;
    }

    /// <summary>The receiver's host and port, and a short digest of its whole URL.</summary>
    private static string ReceiverKey(Uri? url) => url is null ? "" :
        $"{url.Authority}#{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(url.AbsoluteUri)))[..12]}";
}
