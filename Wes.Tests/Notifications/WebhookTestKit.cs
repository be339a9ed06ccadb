using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Wes.Notifications;
using Wes.Tests.Support;

namespace Wes.Tests.Notifications;

/// <summary>Settings, runs and reads shared by the webhook tests.</summary>
internal static class WebhookTestKit
{
    public const string Secret = "webhook-s3cret";
    public const string PublicBase = "https://wes.example.org";

    public static Dictionary<string, string?> Settings(string url, string? states = null, string? maxAgeHours = null) => new()
    {
        ["Wes:Webhook:Url"] = url,
        ["Wes:Webhook:Secret"] = Secret,
        ["Wes:Webhook:States"] = states,
        ["Wes:Webhook:RetryDelaySeconds"] = "0.05",
        ["Wes:Webhook:TimeoutSeconds"] = "5",
        ["Wes:Webhook:MaxAgeHours"] = maxAgeHours ?? "24",
        ["Wes:PublicBaseUrl"] = PublicBase,
    };

    public static RunRequestBuilder FailingRun() =>
        new RunRequestBuilder().WithTags("""{"wes.mock.outcome": "EXECUTOR_ERROR", "wes.mock.exit_code": "3", "team": "genomics"}""");

    public static RunRequestBuilder CompletingRun() => new RunRequestBuilder().WithTags("""{"team": "genomics"}""");

    /// <summary>Submits a run and waits until it has ended.</summary>
    public static async Task<string> RunToEndAsync(WesClient client, RunRequestBuilder request)
    {
        var runId = await client.SubmitAsync(request);
        await client.WaitForTerminalAsync(runId);
        return runId;
    }

    public static Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(WesApplicationFactory factory, string runId) =>
        factory.Service<WebhookOutbox>().ListForRunAsync(runId, CancellationToken.None);

    /// <summary>Polls the outbox until the run's only alert matches <paramref name="done"/>, and returns it.</summary>
    public static async Task<WebhookDelivery> WaitForDeliveryAsync(WesApplicationFactory factory, string runId, Func<WebhookDelivery, bool> done, string what)
    {
        WebhookDelivery? found = null;
        await ProcessTable.WaitUntilAsync(async () =>
        {
            found = (await DeliveriesAsync(factory, runId)).SingleOrDefault();
            return found is not null && done(found);
        }, TimeSpan.FromSeconds(30), what);
        return found!;
    }
}

/// <summary>Counts wes_webhook_deliveries_total by outcome, from one host's "Wes" meter only.</summary>
internal sealed class DeliveryCounts : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public DeliveryCounts(WesApplicationFactory factory)
    {
        var meters = factory.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Meter.Name == WebhookMetrics.MeterName && instrument.Name == WebhookMetrics.DeliveriesName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome")
                {
                    _counts.AddOrUpdate((string)tag.Value!, value, (_, sum) => sum + value);
                }
            }
        });
        _listener.Start();
    }

    public long this[string outcome] => _counts.GetValueOrDefault(outcome);

    public void Dispose() => _listener.Dispose();
}
