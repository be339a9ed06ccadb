using System.Security.Cryptography;
using System.Text;
using Wes.Notifications;
using Wes.Tests.Support;
using static Wes.Tests.Notifications.WebhookTestKit;

namespace Wes.Tests.Notifications;

/// <summary>Alerts by webhook from a real server (Mock runs on SQLite) to a real HTTP receiver on loopback.</summary>
public sealed class WebhookAlertTests
{
    [Fact]
    public async Task FailedRun_IsPostedToTheReceiver_SignedOverTheExactBody()
    {
        using var receiver = new WebhookListener();
        using var factory = new WesApplicationFactory(settings: Settings(receiver.Url));
        using var client = factory.CreateWesClient();
        using var counts = new DeliveryCounts(factory);

        var runId = await RunToEndAsync(client, FailingRun());
        // Written with the state change itself: the alert is there the moment the run's end is visible.
        var recorded = Assert.Single(await DeliveriesAsync(factory, runId));
        var request = await receiver.NextAsync();

        Assert.Equal("POST", request.Method);
        Assert.Equal("/hooks/t0ken-in-path?token=t0ken", request.PathAndQuery);
        Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), request.Body));
        Assert.Equal(expected, request.Header("X-Wes-Signature"));
        Assert.Equal(recorded.DeliveryId, request.Header("X-Wes-Delivery"));
        Assert.InRange(long.Parse(request.Header("X-Wes-Timestamp"), System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds());

        var payload = request.Json;
        Assert.Equal(runId, payload["run_id"]!.GetValue<string>());
        Assert.Equal("EXECUTOR_ERROR", payload["state"]!.GetValue<string>());
        Assert.Equal("RUNNING", payload["previous_state"]!.GetValue<string>());
        Assert.Equal("cwltool", payload["engine"]!.GetValue<string>());
        Assert.Equal("hello.cwl", payload["workflow_url"]!.GetValue<string>());
        Assert.Equal("genomics", payload["tags"]!["team"]!.GetValue<string>());
        Assert.Equal("exit code 3: mock: exited with code 3 as tagged", payload["error"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", payload["end_time"]!.GetValue<string>());
        Assert.Equal($"{PublicBase}/ga4gh/wes/v1/runs/{runId}", payload["run_log_url"]!.GetValue<string>());
        Assert.Equal($"{PublicBase}/ga4gh/wes/v1/runs/{runId}/stdout", payload["stdout_url"]!.GetValue<string>());
        Assert.Equal($"{PublicBase}/ga4gh/wes/v1/runs/{runId}/stderr", payload["stderr_url"]!.GetValue<string>());

        var delivered = await WaitForDeliveryAsync(factory, runId, d => d.Outcome is not null, "the alert is recorded as delivered");
        Assert.Equal(WebhookDelivery.Delivered, delivered.Outcome);
        Assert.Equal(1, delivered.Attempts);
        Assert.Null(delivered.LeaseOwner);
        await ProcessTable.WaitUntilAsync(() => counts[WebhookDelivery.Delivered] == 1, TimeSpan.FromSeconds(10), "the delivery is counted");
    }

    [Fact]
    public async Task CompletedRun_SendsNothingByDefault_WhileAFailedOneIsSent()
    {
        using var receiver = new WebhookListener();
        using var factory = new WesApplicationFactory(settings: Settings(receiver.Url));
        using var client = factory.CreateWesClient();

        var completed = await RunToEndAsync(client, CompletingRun());
        var failed = await RunToEndAsync(client, FailingRun());
        var request = await receiver.NextAsync();

        // The outbox row is written with the terminal state, so "no row" for the finished run means "never sent".
        Assert.Equal("COMPLETE", await client.StateAsync(completed));
        Assert.Empty(await DeliveriesAsync(factory, completed));
        Assert.Equal(failed, request.Json["run_id"]!.GetValue<string>());
        await WaitForDeliveryAsync(factory, failed, d => d.Outcome == WebhookDelivery.Delivered, "the failed run's alert is delivered");
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task ReceiverListedWithEveryState_IsToldOfACompletedRun_WithoutAnErrorAndUnsigned()
    {
        using var receiver = new WebhookListener();
        using var factory = new WesApplicationFactory(settings: new Dictionary<string, string?>
        {
            ["Wes:Webhooks:0:Url"] = receiver.Url,
            ["Wes:Webhooks:0:States"] = "*",
        });
        using var client = factory.CreateWesClient();

        var runId = await RunToEndAsync(client, CompletingRun());
        var request = await receiver.NextAsync();

        Assert.Equal(runId, request.Json["run_id"]!.GetValue<string>());
        Assert.Equal("COMPLETE", request.Json["state"]!.GetValue<string>());
        Assert.Null(request.Json["error"]);
        Assert.True(request.Json.ContainsKey("error"));
        Assert.Equal("", request.Header("X-Wes-Signature"));
        // No WES_PUBLIC_BASE_URL: the links still are absolute, from the address the server listens on.
        Assert.Matches(@"^https?://[^/]+/ga4gh/wes/v1/runs/", request.Json["run_log_url"]!.GetValue<string>());
    }

    [Fact]
    public async Task ReceiverThatFailsFirst_GetsTheAlertAgain_WithTheSameDeliveryIdAndBody()
    {
        // Three 500s use up one try (the first request and its two quick retries); the row's back-off brings the next.
        using var receiver = new WebhookListener(statuses: [500, 500, 500]);
        using var factory = new WesApplicationFactory(settings: Settings(receiver.Url));
        using var client = factory.CreateWesClient();
        using var counts = new DeliveryCounts(factory);

        var runId = await RunToEndAsync(client, FailingRun());
        var requests = new List<ReceivedWebhook>();
        for (var i = 0; i < 4; i++)
        {
            requests.Add(await receiver.NextAsync());
        }

        Assert.Equal([500, 500, 500, 200], requests.Select(r => r.AnsweredStatus));
        Assert.Single(requests.Select(r => r.Header("X-Wes-Delivery")).Distinct());
        Assert.Single(requests.Select(r => Convert.ToBase64String(r.Body)).Distinct());
        var delivered = await WaitForDeliveryAsync(factory, runId, d => d.Outcome is not null, "the alert is delivered on its second try");
        Assert.Equal(WebhookDelivery.Delivered, delivered.Outcome);
        Assert.Equal(2, delivered.Attempts);
        Assert.Equal(requests[0].Header("X-Wes-Delivery"), delivered.DeliveryId);
        await ProcessTable.WaitUntilAsync(() => counts[WebhookDelivery.Delivered] == 1, TimeSpan.FromSeconds(10), "the delivery is counted");
        Assert.Equal(1, counts[WebhookMetrics.FailedAttempt]);
    }

    [Fact]
    public async Task ReceiverThatRedirects_IsNotFollowed_AndTheAlertIsTriedAgainAtTheConfiguredUrl()
    {
        using var receiver = new WebhookListener(statuses: [302]);
        using var factory = new WesApplicationFactory(settings: Settings(receiver.Url));
        using var client = factory.CreateWesClient();

        var runId = await RunToEndAsync(client, FailingRun());
        var first = await receiver.NextAsync();
        var second = await receiver.NextAsync();

        Assert.Equal((302, 200), (first.AnsweredStatus, second.AnsweredStatus));
        Assert.All(receiver.Received, r => Assert.Equal(("POST", new Uri(receiver.Url).PathAndQuery), (r.Method, r.PathAndQuery)));
        var delivered = await WaitForDeliveryAsync(factory, runId, d => d.Outcome is not null, "the alert is delivered on its second try");
        Assert.Equal((WebhookDelivery.Delivered, 2), (delivered.Outcome, delivered.Attempts));
    }

    [Fact]
    public async Task ReceiverDownWhenTheRunFails_GetsTheAlertFromTheRestartedServer()
    {
        var dataDir = TempDirectory.Create("wes-webhook-restart");
        try
        {
            var port = LocalHttpServer.FreePort();
            var settings = Settings(WebhookListener.UrlOn(port));
            string runId;
            using (var first = new WesApplicationFactory(dataDir: dataDir, settings: settings))
            {
                using var client = first.CreateWesClient();
                runId = await RunToEndAsync(client, FailingRun());
                var failing = await WaitForDeliveryAsync(first, runId, d => d.Attempts >= 1, "a try has failed against the absent receiver");
                Assert.Null(failing.Outcome);
                Assert.NotNull(failing.LastError);
            }

            using var receiver = new WebhookListener(port);
            using var second = new WesApplicationFactory(dataDir: dataDir, settings: settings);
            _ = second.Services;
            var request = await receiver.NextAsync();

            Assert.Equal(runId, request.Json["run_id"]!.GetValue<string>());
            var delivered = await WaitForDeliveryAsync(second, runId, d => d.Outcome is not null, "the restarted server delivers the alert");
            Assert.Equal(WebhookDelivery.Delivered, delivered.Outcome);
            Assert.Equal(delivered.DeliveryId, request.Header("X-Wes-Delivery"));
        }
        finally
        {
            TempDirectory.Delete(dataDir);
        }
    }

    [Fact]
    public async Task AlertStillFailingPastItsMaximumAge_IsGivenUp_LoggedAndCounted()
    {
        using var receiver = new WebhookListener(alwaysFail: true);
        var log = new CapturingLoggerProvider();
        // About a second and a half.
        using var factory = new WesApplicationFactory(settings: Settings(receiver.Url, maxAgeHours: "0.0004"), services: log.AddTo);
        using var client = factory.CreateWesClient();
        using var counts = new DeliveryCounts(factory);

        var runId = await RunToEndAsync(client, FailingRun());
        var given = await WaitForDeliveryAsync(factory, runId, d => d.Outcome is not null, "the alert is given up");

        Assert.Equal(WebhookDelivery.GaveUp, given.Outcome);
        Assert.True(given.Attempts >= 2, $"only {given.Attempts} tries");
        Assert.NotNull(given.FinishedAt);
        Assert.InRange(given.FinishedAt!.Value - given.CreatedAt, (long)(0.0004 * 3_600_000), 60_000);
        Assert.NotNull(given.LastError);
        await ProcessTable.WaitUntilAsync(() => counts[WebhookDelivery.GaveUp] == 1, TimeSpan.FromSeconds(10), "the give-up is counted");
        Assert.Contains($"Webhook alert {given.DeliveryId} for run {runId} (EXECUTOR_ERROR) to http://127.0.0.1:{receiver.Port} given up", log.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("t0ken", log.Text, StringComparison.Ordinal);
        Assert.Equal(0, counts[WebhookDelivery.Delivered]);
    }
}
