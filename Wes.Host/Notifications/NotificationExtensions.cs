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
        services.AddHttpClient(WebhookSender.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
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
            // A pipeline, and so a circuit breaker, per receiver.
            .SelectPipelineBy(_ => request => request.RequestUri?.AbsoluteUri ?? "");
        services.AddHostedService<WebhookSender>();
        return services;
    }
}
