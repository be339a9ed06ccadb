using Microsoft.Extensions.Options;
using Wes.Persistence;

namespace Wes;

/// <summary>The commands of the one executable, and the clean exit when configuration is bad.</summary>
public static class HostCommands
{
    public static async Task<int> RunAsync(WebApplication app, string command)
    {
        try
        {
            switch (command)
            {
                case "serve":
                    await app.RunAsync();
                    return 0;
                case "migrate":
                    await app.Services.GetRequiredService<DatabaseInitializer>().MigrateAsync(CancellationToken.None);
                    return 0;
                default:
                    await Console.Error.WriteLineAsync($"Unknown command '{command}'. Use: Wes.Host [migrate] [--urls http://host:port]");
                    return 2;
            }
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync("Configuration error:\n  " + string.Join("\n  ", ex.Failures));
            return 2;
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("configuration", StringComparison.OrdinalIgnoreCase))
        {
            await Console.Error.WriteLineAsync("Configuration error: " + ex.Message);
            return 2;
        }
    }
}
