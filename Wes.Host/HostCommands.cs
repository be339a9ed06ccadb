using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Persistence;

namespace Wes;

/// <summary>The commands of the one executable, and the clean exit when configuration is bad.</summary>
public static class HostCommands
{
    public const string Serve = "serve";
    public const string Api = "api";
    public const string Executor = "executor";
    public const string Migrate = "migrate";

    /// <summary>The exit code when the data folder, its disk or the SQLite files cannot be written.</summary>
    public const int StorageUnusable = 3;

    private const string Usage = "Use: Wes.Host [api|executor|migrate] [--urls http://host:port]";

    /// <summary>
    /// The command (first argument unless it is an option) and the arguments left for the host. Settings are read
    /// once at start-up, so the host is told not to watch its settings files: watching them puts an inotify watch on
    /// every folder under the working directory, which costs most of a second (and the watches) when the server
    /// is started from a large tree. A later --hostBuilder:reloadConfigOnChange=true on the command line still wins.
    /// </summary>
    public static (string Command, string[] HostArgs) Parse(string[] args)
    {
        var (command, rest) = args.Length > 0 && !args[0].StartsWith('-') ? (args[0], args[1..]) : (Serve, args);
        return (command, ["--hostBuilder:reloadConfigOnChange=false", .. rest]);
    }

    public static async Task<int> RunAsync(IHost host, string command)
    {
        if (ReadSettingsProblem(host.Services) is { } problem)
        {
            await Console.Error.WriteLineAsync("Configuration error:\n  " + problem);
            return 2;
        }

        if (command is Serve or Api or Executor or Migrate &&
            StorageCheck.FindProblem(host.Services.GetRequiredService<IOptions<WesOptions>>().Value) is { } storage)
        {
            await Console.Error.WriteLineAsync(storage);
            return StorageUnusable;
        }

        switch (command)
        {
            case Serve or Api or Executor:
                try
                {
                    await host.RunAsync();
                }
                catch (IOException ex) when (ex.Message.StartsWith("Failed to bind", StringComparison.Ordinal))
                {
                    await Console.Error.WriteLineAsync($"{ex.Message} Pick a free port with --urls or ASPNETCORE_URLS.");
                    return 2;
                }

                return 0;
            case Migrate:
                var initializer = host.Services.GetRequiredService<DatabaseInitializer>();
                await initializer.MigrateAsync(CancellationToken.None);
                await initializer.RebuildStateCountsAsync(CancellationToken.None);
                // The console logger writes from a queue of its own: disposing the host flushes it, so the last lines
                // (the counts that were wrong) are not lost when the process exits.
                if (host is IAsyncDisposable disposable)
                {
                    await disposable.DisposeAsync();
                }
                else
                {
                    host.Dispose();
                }

                return 0;
            default:
                await Console.Error.WriteLineAsync($"Unknown command '{command}'. {Usage}");
                return 2;
        }
    }

    /// <summary>Binds and validates the settings before anything starts, so a bad value stops the process with its name.</summary>
    private static string? ReadSettingsProblem(IServiceProvider services)
    {
        try
        {
            _ = services.GetRequiredService<IOptions<WesOptions>>().Value;
            return null;
        }
        catch (OptionsValidationException ex)
        {
            return string.Join("\n  ", ex.Failures);
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            var alias = Configuration.ConfigurationExtensions.EnvironmentAliases
                .FirstOrDefault(a => ex.Message.Contains($"'{WesOptions.Section}:{a.Value}'", StringComparison.Ordinal)).Key;
            return alias is null ? ex.Message : $"{alias}: {ex.Message}";
        }
    }
}
