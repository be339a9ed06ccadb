namespace Wes.Notifications;

/// <summary>
/// The delivery of alerts (Wes:Webhook), and the one receiver that WES_WEBHOOK_URL names. Further receivers are
/// listed in Wes:Webhooks (see <see cref="WebhookTarget"/>).
/// </summary>
public sealed class WebhookOptions
{
    /// <summary>A receiver on its own (WES_WEBHOOK_URL), added to those of Wes:Webhooks.</summary>
    public string? Url { get; set; }

    /// <summary>Key of the signature of its requests (WES_WEBHOOK_SECRET); empty sends them unsigned.</summary>
    public string? Secret { get; set; }

    /// <summary>Terminal states it is told of (WES_WEBHOOK_STATES); see <see cref="WebhookTarget.States"/>.</summary>
    public string? States { get; set; }

    /// <summary>How long an alert that cannot be delivered is tried before it is given up (WES_WEBHOOK_MAX_AGE).</summary>
    public double MaxAgeHours { get; set; } = 24;

    /// <summary>Time limit of one request to a receiver.</summary>
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>First wait before a failed delivery is tried again; each further failure doubles it, with jitter.</summary>
    public double RetryDelaySeconds { get; set; } = 5;

    /// <summary>How long delivered and given-up alerts stay in the outbox, for inspection, before they are removed.</summary>
    public double KeepHours { get; set; } = 168;
}

/// <summary>One receiver of alerts: Wes:Webhooks:N:Url, :Secret and :States.</summary>
public sealed class WebhookTarget
{
    public string Url { get; set; } = "";
    public string? Secret { get; set; }

    /// <summary>
    /// Terminal states to send, separated by commas; "*" sends every terminal state. Empty means EXECUTOR_ERROR and
    /// SYSTEM_ERROR: the failures someone has to look at.
    /// </summary>
    public string? States { get; set; }
}
