using Wes.Configuration;
using Wes.Runs;

namespace Wes.Notifications;

/// <summary>A receiver as the sender uses it: its URL, its key (null: unsigned) and the states it wants.</summary>
public sealed record WebhookReceiver(string Url, string? Secret, IReadOnlySet<RunState> States);

/// <summary>The receivers configured in Wes:Webhooks and WES_WEBHOOK_URL, and the start-up checks of their settings.</summary>
public static class WebhookTargets
{
    public static readonly IReadOnlySet<RunState> DefaultStates = new HashSet<RunState> { RunState.ExecutorError, RunState.SystemError };

    private static readonly string TerminalNames = string.Join(", ", RunTransitions.Terminal.Select(s => s.ToWes()).Order(StringComparer.Ordinal));

    /// <summary>Every configured receiver; call only with settings that passed <see cref="Check"/>.</summary>
    public static IReadOnlyList<WebhookReceiver> From(WesOptions options) =>
        Configured(options).Select(t => new WebhookReceiver(t.Target.Url, Blank(t.Target.Secret), ParseStates(t.Target.States)!)).ToList();

    /// <summary>The states a States setting names; null when it names something else than terminal states or "*".</summary>
    public static IReadOnlySet<RunState>? ParseStates(string? states)
    {
        var names = (states ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0)
        {
            return DefaultStates;
        }

        if (names.Contains("*"))
        {
            return RunTransitions.Terminal;
        }

        var parsed = names.Select(name => RunStateNames.ParseWes(name.ToUpperInvariant())).ToHashSet();
        return parsed.All(RunTransitions.Terminal.Contains) ? parsed : null;
    }

    public static void Check(WesOptions options, SettingProblems problems)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (setting, target) in Configured(options))
        {
            // A receiver's URL often holds its token, so the message names the setting, not the value.
            if (!IsHttpUrl(target.Url))
            {
                problems.Add($"{setting.Url}", "must be an absolute http(s) URL");
            }
            else if (!seen.Add(target.Url))
            {
                problems.Add($"{setting.Url}", "names a receiver that is already configured");
            }

            problems.Check(ParseStates(target.States) is not null, $"{setting.States}",
                $"may only list the terminal states {TerminalNames}, separated by commas, or *", target.States);
        }

        var webhook = options.Webhook;
        if (string.IsNullOrWhiteSpace(webhook.Url) && !string.IsNullOrWhiteSpace(webhook.Secret))
        {
            problems.Add("WES_WEBHOOK_SECRET (Wes:Webhook:Secret)", "is set without WES_WEBHOOK_URL (Wes:Webhook:Url)");
        }

        problems.Check(webhook.MaxAgeHours is > 0 and <= 720, "WES_WEBHOOK_MAX_AGE (Wes:Webhook:MaxAgeHours)", "must be more than 0 and at most 720 hours", webhook.MaxAgeHours);
        problems.Check(webhook.TimeoutSeconds is >= 0.1 and <= 300, "Wes:Webhook:TimeoutSeconds", "must be between 0.1 and 300", webhook.TimeoutSeconds);
        problems.Check(webhook.RetryDelaySeconds is >= 0.01 and <= 3600, "Wes:Webhook:RetryDelaySeconds", "must be between 0.01 and 3600", webhook.RetryDelaySeconds);
        problems.Check(webhook.KeepHours is >= 0 and <= 8760, "Wes:Webhook:KeepHours", "must be between 0 and 8760", webhook.KeepHours);
    }

    /// <summary>Each receiver with the names its URL and states are set by, for messages.</summary>
    private static IEnumerable<((string Url, string States) Setting, WebhookTarget Target)> Configured(WesOptions options)
    {
        for (var i = 0; i < options.Webhooks.Count; i++)
        {
            yield return (($"Wes:Webhooks:{i}:Url", $"Wes:Webhooks:{i}:States"), options.Webhooks[i]);
        }

        if (!string.IsNullOrWhiteSpace(options.Webhook.Url))
        {
            yield return (("WES_WEBHOOK_URL (Wes:Webhook:Url)", "WES_WEBHOOK_STATES (Wes:Webhook:States)"),
                new WebhookTarget { Url = options.Webhook.Url, Secret = options.Webhook.Secret, States = options.Webhook.States });
        }
    }

    private static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
