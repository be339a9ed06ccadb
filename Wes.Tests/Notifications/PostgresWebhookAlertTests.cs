using Wes.Notifications;
using Wes.Tests.Support;
using static Wes.Tests.Notifications.WebhookTestKit;

namespace Wes.Tests.Notifications;

/// <summary>The whole path on PostgreSQL: the alert written with the run's end, claimed under a lease, delivered.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresWebhookAlertTests(PostgresServer postgres)
{
    [Fact]
    public async Task FailedRun_OnPostgres_IsDeliveredOnceAndRecorded()
    {
        using var receiver = new WebhookListener();
        var settings = Settings(receiver.Url);
        settings["Wes:Database"] = postgres.CreateDatabase();
        using var factory = new WesApplicationFactory(settings: settings);
        using var client = factory.CreateWesClient();

        var runId = await RunToEndAsync(client, FailingRun());
        var request = await receiver.NextAsync();
        var delivered = await WaitForDeliveryAsync(factory, runId, d => d.Outcome is not null, "the alert is recorded as delivered");

        Assert.Equal(runId, request.Json["run_id"]!.GetValue<string>());
        Assert.Equal(WebhookDelivery.Delivered, delivered.Outcome);
        Assert.Equal(delivered.DeliveryId, request.Header("X-Wes-Delivery"));
        Assert.Single(receiver.Received);
    }
}
