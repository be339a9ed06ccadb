using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Wes.Runs;

namespace Wes.Notifications;

/// <summary>The JSON body of an alert. Built from the run, which no longer changes once it has ended, so every try sends the same bytes.</summary>
public sealed record WebhookPayload(
    string RunId, string State, string? PreviousState, string Engine, string WorkflowUrl, IReadOnlyDictionary<string, string> Tags,
    string? Error, string? EndTime, string RunLogUrl, string StdoutUrl, string StderrUrl)
{
    /// <summary>Longest error summary: enough to tell what went wrong; the logs behind the links hold the rest.</summary>
    public const int MaxErrorLength = 500;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <param name="apiBase">The absolute WES base URL, for example https://wes.example.org/ga4gh/wes/v1.</param>
    public static WebhookPayload For(Run run, WebhookDelivery delivery, string apiBase)
    {
        var runUrl = $"{apiBase}/runs/{Uri.EscapeDataString(run.RunId)}";
        return new WebhookPayload(
            run.RunId, delivery.State, delivery.PreviousState, run.Engine, run.WorkflowUrl, run.ReadTags(),
            ErrorSummary(run, RunStateNames.ParseWes(delivery.State)), Time(run.EndedAt), runUrl, runUrl + "/stdout", runUrl + "/stderr");
    }

    public byte[] ToUtf8Bytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>X-Wes-Signature: the hex HMAC-SHA256 of the exact body with the receiver's secret.</summary>
    public static string Signature(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>The exit code and the run's own error message (else the last line of its system log); null for a COMPLETE run.</summary>
    internal static string? ErrorSummary(Run run, RunState state)
    {
        if (state == RunState.Complete)
        {
            return null;
        }

        var message = run.ErrorMessage ?? LastSystemLog(run.SystemLogsJson);
        var summary = (run.ExitCode, message) switch
        {
            ({ } code, { } text) => $"exit code {code}: {text}",
            ({ } code, null) => $"exit code {code}",
            (null, var text) => text,
        };
        return summary is { Length: > MaxErrorLength } ? summary[..(MaxErrorLength - 1)] + "…" : summary;
    }

    private static string? LastSystemLog(string? json)
    {
        try
        {
            return json is null ? null : JsonSerializer.Deserialize<string[]>(json)?.LastOrDefault();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Time(long? epochMilliseconds) =>
        epochMilliseconds is { } ms
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : null;
}
