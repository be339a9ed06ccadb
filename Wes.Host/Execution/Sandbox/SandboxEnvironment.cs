namespace Wes.Execution.Sandbox;

/// <summary>
/// Which of the server's environment variables an engine must not inherit: anything named like a secret and the
/// server's own settings. They are removed by name (--unsetenv), never copied by value, so no value appears in a
/// command line that other users of the host, or the run's own log, could read.
/// </summary>
public static class SandboxEnvironment
{
    private static readonly string[] SecretWords = ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "CONNECTIONSTRING"];

    /// <summary>Prefixes of the server's own settings: WES_*, Wes__* (the "Wes" section), ASP.NET Core and .NET host settings.</summary>
    private static readonly string[] SettingPrefixes = ["WES_", "WES__", "ASPNETCORE_", "DOTNET_", "CONNECTIONSTRINGS"];

    public static bool IsWithheld(string name, IReadOnlyCollection<string> passed)
    {
        if (passed.Contains(name, StringComparer.Ordinal))
        {
            return false;
        }

        var upper = name.ToUpperInvariant();
        return SecretWords.Any(upper.Contains)
            || SettingPrefixes.Any(prefix => upper.StartsWith(prefix, StringComparison.Ordinal))
            || Configuration.ConfigurationExtensions.EnvironmentAliases.ContainsKey(name);
    }

    /// <summary>The names in this process's environment that engines do not get, in a stable order.</summary>
    public static IReadOnlyList<string> Withheld(IReadOnlyCollection<string> passed) =>
        Environment.GetEnvironmentVariables().Keys.Cast<object>().Select(key => (string)key)
            .Where(name => IsWithheld(name, passed)).Order(StringComparer.Ordinal).ToList();
}
