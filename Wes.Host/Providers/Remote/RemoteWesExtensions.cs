using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution.Engines;

namespace Wes.Providers.Remote;

public static class RemoteWesExtensions
{
    /// <summary>
    /// One <see cref="RemoteWesProvider"/> per Wes:Remotes:&lt;name&gt; section, each with its own HttpClient, so its
    /// circuit breaker opens for that remote alone. Remote URLs are the operator's: they may be internal addresses and
    /// are not checked against the outbound address policy that guards user-given URLs.
    /// </summary>
    public static TBuilder AddWesRemotes<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var names = builder.Configuration.GetSection($"{WesOptions.Section}:Remotes").GetChildren().Select(section => section.Key).ToList();
        foreach (var name in names)
        {
            var clientName = RemoteWesClient.HttpClientPrefix + name;
            builder.Services.AddHttpClient(clientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
                // A copied log or output never follows a redirect off the remote's host (nor anywhere else).
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
                .AddStandardResilienceHandler()
                .Configure((resilience, provider) => Configure(resilience, Settings(provider, name)));
            builder.Services.AddSingleton<IExecutionProvider>(provider =>
            {
                var settings = Settings(provider, name);
                var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient(clientName);
                var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger<RemoteWesProvider>();
                var engines = RemoteEngines.From(name, settings, provider.GetRequiredService<EngineCatalog>().Registered);
                return new RemoteWesProvider(name, settings, new RemoteWesClient(name, settings, http), engines,
                    provider.GetRequiredService<TimeProvider>(), logger);
            });
        }

        return builder;
    }

    private static RemoteWesOptions Settings(IServiceProvider provider, string name) =>
        provider.GetRequiredService<IOptions<WesOptions>>().Value.Remotes
            .First(pair => string.Equals(pair.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>
    /// Each call gets a few tries with jittered back-off inside a bound that fits the remote's timeout; POSTs are
    /// retried by the provider itself, with a fresh form each time. The breaker opens after a handful of failures, not
    /// the default hundred, since a remote sees a few calls per poll.
    /// </summary>
    private static void Configure(HttpStandardResilienceOptions resilience, RemoteWesOptions remote)
    {
        var attempt = remote.AttemptTimeout;
        resilience.AttemptTimeout.Timeout = attempt;
        resilience.TotalRequestTimeout.Timeout = remote.CallTimeout;
        // A post carries the run's attachments: it has the upload's time, not a status call's.
        resilience.AttemptTimeout.TimeoutGenerator = args => ValueTask.FromResult(IsPost(args.Context) ? remote.UploadTimeout : attempt);
        resilience.TotalRequestTimeout.TimeoutGenerator = args => ValueTask.FromResult(IsPost(args.Context) ? remote.UploadTimeout : remote.CallTimeout);
        resilience.Retry.MaxRetryAttempts = 3;
        resilience.Retry.UseJitter = true;
        resilience.Retry.BackoffType = Polly.DelayBackoffType.Exponential;
        resilience.Retry.Delay = TimeSpan.FromSeconds(Math.Clamp(remote.PollSeconds / 4, 0.05, 2));
        resilience.Retry.DisableForUnsafeHttpMethods();
        resilience.CircuitBreaker.MinimumThroughput = 5;
        resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(Math.Max(30, attempt.TotalSeconds * 2 + 1));
        resilience.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(Math.Clamp(remote.PollSeconds, 0.5, 30));
    }

#pragma warning disable EXTEXP0001 // The request's method is the only way to give posts their own timeout inside the pipeline.
    private static bool IsPost(Polly.ResilienceContext context) =>
        Polly.HttpResilienceContextExtensions.GetRequestMessage(context) is { Method: var method, RequestUri: var uri } && method == HttpMethod.Post && uri?.AbsolutePath.EndsWith("/runs", StringComparison.Ordinal) == true;
#pragma warning restore EXTEXP0001
}
