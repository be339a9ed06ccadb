using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Persistence;

/// <summary>Creates the data directory, applies migrations and switches SQLite to WAL before anything else runs.</summary>
public sealed class DatabaseInitializer(
    IServiceScopeFactory scopes, SqliteConnectionFactory connections, IOptions<WesOptions> options,
    ILogger<DatabaseInitializer> logger)
{
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.Value.ResolvedDataDir);
        Directory.CreateDirectory(options.Value.RunsDir);
        await using (var connection = await connections.OpenAsync(cancellationToken))
        {
            // WAL lets readers (the API) proceed while a writer (an executor) commits; it persists in the file.
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA journal_mode=WAL", cancellationToken: cancellationToken));
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WesDbContext>();
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        await db.Database.MigrateAsync(cancellationToken);
        logger.LogInformation("Database ready at {DataDir}; applied {Count} migration(s)", options.Value.ResolvedDataDir, pending.Count);
    }
}

/// <summary>Runs <see cref="DatabaseInitializer"/> at start-up unless WES_MIGRATE_ON_STARTUP is false.</summary>
public sealed class DatabaseInitializerService(DatabaseInitializer initializer, IOptions<WesOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        options.Value.MigrateOnStartup ? initializer.MigrateAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public static class PersistenceExtensions
{
    public static IServiceCollection AddWesPersistence(this IServiceCollection services)
    {
        services.AddDbContext<WesDbContext>((provider, db) =>
            db.UseSqlite(provider.GetRequiredService<SqliteConnectionFactory>().ConnectionString));
        services.AddSingleton<SqliteConnectionFactory>();
        services.AddSingleton<RunStore>();
        services.AddSingleton<DatabaseInitializer>();
        // Registered before the executor so the schema exists before the first claim.
        services.AddHostedService<DatabaseInitializerService>();
        return services;
    }
}
