using System.Text.RegularExpressions;
using Wes.Configuration;

namespace Wes.Providers.Remote;

/// <summary>One remote WES server runs are forwarded to (Wes:Remotes:&lt;name&gt;, or Wes__Remotes__&lt;name&gt;__Url from the environment).</summary>
public sealed class RemoteWesOptions
{
    /// <summary>The remote's WES base URL, e.g. http://host:8000/ga4gh/wes/v1.</summary>
    public string? Url { get; set; }

    /// <summary>Sent as a bearer token on every call to the remote (never to other hosts); empty sends none.</summary>
    public string? Token { get; set; }

    /// <summary>Seconds between status polls of the remote's runs; polls back off while the remote fails.</summary>
    public double PollSeconds { get; set; } = 10;

    /// <summary>How long the remote may stay unreachable (or keep failing) before its runs end SYSTEM_ERROR.</summary>
    public double TimeoutSeconds { get; set; } = 300;

    /// <summary>
    /// The workflow types the remote runs, separated by commas, each optionally with its versions after a colon:
    /// "CWL,WDL:1.0|draft-2". A type this server also runs locally takes its versions from the local engines.
    /// </summary>
    public string? WorkflowTypes { get; set; }

    /// <summary>
    /// The engines the remote offers, separated by commas, each optionally with the types it runs: "cromwell:WDL|CWL".
    /// Empty offers one engine named after the remote, running every type.
    /// </summary>
    public string? Engines { get; set; }

    /// <summary>Bytes of logs and output files copied back from the remote per run; what is beyond stays at the remote.</summary>
    public long MaxCopyBytes { get; set; } = 10L * 1024 * 1024 * 1024;

    /// <summary>One try of a call: long enough for a slow answer, short enough to try again within the timeout.</summary>
    public TimeSpan AttemptTimeout => TimeSpan.FromSeconds(Math.Clamp(TimeoutSeconds / 4, 1, 30));

    /// <summary>A whole call, its tries and the reading of its answer included.</summary>
    public TimeSpan CallTimeout => TimeSpan.FromSeconds(Math.Max(AttemptTimeout.TotalSeconds * 2, Math.Min(TimeoutSeconds, 120)));

    /// <summary>Posting a run sends its attachments, which may be large: it gets far longer than a status call.</summary>
    public TimeSpan UploadTimeout => TimeSpan.FromSeconds(Math.Max(TimeoutSeconds, 1800));
}

/// <summary>The start-up checks of Wes:Remotes, each failure named by its setting.</summary>
public static partial class RemoteSettingsRules
{
    /// <summary>runs.provider holds at most 32 characters; names are also used in handles and tags.</summary>
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,31}$")]
    public static partial Regex NamePattern();

    public static void Check(WesOptions options, IReadOnlyList<Execution.Engines.IWorkflowEngine> registered, SettingProblems problems)
    {
        foreach (var (name, remote) in options.Remotes)
        {
            var setting = $"Wes:Remotes:{name}";
            if (!NamePattern().IsMatch(name))
            {
                problems.Add(setting, "must be named by a letter followed by up to 31 letters, digits, '_' or '-' (the name is stored with each run)");
            }
            else if (Configuration.WesOptionsValidator.Providers.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                problems.Add(setting, $"must not take the name of the built-in provider {name}");
            }

            // Calls are made by appending paths to the URL: a query or fragment would end up in the middle of them.
            problems.Check(Uri.TryCreate(remote.Url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.UserInfo)
                    && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment) && !remote.Url!.Contains('?') && !remote.Url.Contains('#'),
                $"{setting}:Url", "must be the remote's absolute http(s) WES base URL without credentials, query or fragment (e.g. http://host:8000/ga4gh/wes/v1)", remote.Url);
            if (remote.Token is { } token && token.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            {
                problems.Add($"{setting}:Token", "must not contain spaces or control characters");
            }

            problems.Check(remote.PollSeconds is >= 0.05 and <= 3600, $"{setting}:PollSeconds", "must be between 0.05 and 3600", remote.PollSeconds);
            problems.Check(remote.TimeoutSeconds is >= 1 and <= 604_800 && remote.TimeoutSeconds >= remote.PollSeconds,
                $"{setting}:TimeoutSeconds", "must be between 1 and 604800 and not below PollSeconds", remote.TimeoutSeconds);
            problems.Check(remote.MaxCopyBytes >= 0, $"{setting}:MaxCopyBytes", "must not be negative", remote.MaxCopyBytes);
            foreach (var problem in RemoteEngines.Problems(name, remote, registered))
            {
                problems.Add(setting, problem);
            }
        }
    }
}
