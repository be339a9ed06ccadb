using System.Diagnostics.Metrics;

namespace Wes.Notifications;

/// <summary>wes_webhook_deliveries_total{outcome}: delivered, failed_attempt (will be tried again) and gave_up.</summary>
public sealed class WebhookMetrics(IMeterFactory meters)
{
    public const string MeterName = "Wes";
    public const string DeliveriesName = "wes_webhook_deliveries_total";
    public const string FailedAttempt = "failed_attempt";

    private readonly Counter<long> _deliveries = meters.Create(MeterName).CreateCounter<long>(
        DeliveriesName, unit: "{delivery}", description: "Tries to deliver a run's alert to a webhook receiver, by outcome.");

    public void Count(string outcome) => _deliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
