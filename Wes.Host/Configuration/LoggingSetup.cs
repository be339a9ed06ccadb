namespace Wes.Configuration;

/// <summary>The console log's format (WES_LOG_FORMAT): the default one-line-per-entry text, or JSON lines.</summary>
public static class LoggingSetup
{
    public const string Simple = "simple";
    public const string Json = "json";

    public static readonly string[] Formats = [Simple, Json];

    /// <summary>
    /// JSON lines carry the scopes (RunId, State, Engine of the run a line is about) as fields, with UTC timestamps, for
    /// log collectors. Read from configuration as it stands: logging is set up before the settings are validated.
    /// </summary>
    public static void AddWesLogging(IHostApplicationBuilder builder)
    {
        if (string.Equals(builder.Configuration[$"{WesOptions.Section}:LogFormat"]?.Trim(), Json, StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole(json =>
            {
                json.IncludeScopes = true;
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
    }
}
