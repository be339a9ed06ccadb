using System.Data.Common;
using System.Reflection;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.Retry;
using Wes.Configuration;

namespace Wes.Persistence;

/// <summary>Creates the data directory, applies the migrations of the configured database and, for SQLite, turns on WAL.</summary>
public sealed class DatabaseInitializer(
    IServiceScopeFactory scopes, IRunDatabase database, RunStateCounts stateCounts, IOptions<WesOptions> options,
    ILogger<DatabaseInitializer> logger)
{
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.Value.ResolvedDataDir);
        Directory.CreateDirectory(options.Value.RunsDir);
        if (database.Kind == DatabaseKind.Sqlite)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            // WAL lets readers (the API) proceed while a writer (an executor) commits; it persists in the file.
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA journal_mode=WAL", cancellationToken: cancellationToken));
        }

        var contextType = database.Kind == DatabaseKind.Sqlite ? typeof(SqliteWesDbContext) : typeof(PostgresWesDbContext);
        if (await AllAppliedAsync(contextType, cancellationToken))
        {
            logger.LogInformation("{Database} database ready; no migration pending", database.Kind);
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        WesDbContext db = database.Kind == DatabaseKind.Sqlite
            ? scope.ServiceProvider.GetRequiredService<SqliteWesDbContext>()
            : scope.ServiceProvider.GetRequiredService<PostgresWesDbContext>();
        // EF takes a migration lock, so several processes starting together apply each migration once.
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        await db.Database.MigrateAsync(cancellationToken);
        logger.LogInformation("{Database} database ready; applied {Count} migration(s)", database.Kind, pending.Count);
    }

    /// <summary>
    /// Recounts the runs in each state (the `migrate` command, after the migrations). The triggers keep the counts
    /// exact, so a difference means someone edited a table by hand or restored part of a backup: say which states.
    /// </summary>
    public async Task RebuildStateCountsAsync(CancellationToken cancellationToken)
    {
        var mismatches = await stateCounts.RebuildAsync(cancellationToken);
        if (mismatches.Count > 0)
        {
            logger.LogWarning("Run counts per state were wrong and have been rebuilt: {States}",
                string.Join(", ", mismatches.Select(m => $"{m.State} (kept {m.Recorded}, actual {m.Actual})")));
        }
        else
        {
            logger.LogInformation("Run counts per state checked: all exact");
        }
    }

    /// <summary>
    /// Whether the database already has every migration this build knows, read with one query. Most starts find
    /// nothing to do, and answering that through EF (building its model and migrator) is most of a start-up's CPU.
    /// Anything unexpected (no history table yet, another database) leaves the answer to EF.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Type, IReadOnlyList<string>> _knownMigrations = new();

    private async Task<bool> AllAppliedAsync(Type contextType, CancellationToken cancellationToken)
    {
        try
        {
            return (await PendingMigrationsAsync(contextType, cancellationToken)).Count == 0;
        }
        catch (DbException)
        {
            return false;
        }
    }

    /// <summary>The migrations this build knows that the database has not applied (all of them before the first).</summary>
    /// <exception cref="DbException">The database cannot be reached.</exception>
    public Task<IReadOnlyList<string>> PendingMigrationsAsync(CancellationToken cancellationToken) =>
        PendingMigrationsAsync(database.Kind == DatabaseKind.Sqlite ? typeof(SqliteWesDbContext) : typeof(PostgresWesDbContext), cancellationToken);

    private async Task<IReadOnlyList<string>> PendingMigrationsAsync(Type contextType, CancellationToken cancellationToken)
    {
        // Read from the assembly once: readiness asks on every probe.
        var known = _knownMigrations.GetOrAdd(contextType, type => typeof(DatabaseInitializer).Assembly.GetTypes()
            .Where(migration => migration.GetCustomAttribute<DbContextAttribute>()?.ContextType == type)
            .Select(migration => migration.GetCustomAttribute<MigrationAttribute>()?.Id)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .ToList());
        await using var connection = await database.OpenAsync(cancellationToken);
        var history = await connection.ExecuteScalarAsync<long>(new CommandDefinition(database.Kind == DatabaseKind.Sqlite
            ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsHistory'"
            : "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = '__EFMigrationsHistory' AND schemaname = current_schema()",
            cancellationToken: cancellationToken));
        if (history == 0)
        {
            return known;
        }

        var applied = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT \"MigrationId\" FROM \"__EFMigrationsHistory\"", cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
        return known.Where(id => !applied.Contains(id)).ToList();
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
        services.AddSingleton<IRunDatabase>(provider =>
        {
            var settings = provider.GetRequiredService<IOptions<WesOptions>>().Value;
            return settings.DatabaseKind == DatabaseKind.PostgreSql
                ? new PostgresRunDatabase(NpgsqlDataSource.Create(settings.ConnectionString))
                : new SqliteRunDatabase(settings.ConnectionString);
        });
        services.AddDbContext<SqliteWesDbContext>((provider, db) => db.UseSqlite(provider.GetRequiredService<IRunDatabase>().ConnectionString));
        services.AddDbContext<PostgresWesDbContext>((provider, db) => db.UseNpgsql(provider.GetRequiredService<IRunDatabase>().ConnectionString));
        services.AddResiliencePipeline(RunStore.PipelineName, pipeline => pipeline.AddRetry(new RetryStrategyOptions
        {
            // Busy or locked SQLite files (codes 5 and 6) and dropped PostgreSQL connections; never a logic error.
            ShouldHandle = new PredicateBuilder()
                .Handle<SqliteException>(e => e.SqliteErrorCode is 5 or 6)
                .Handle<NpgsqlException>(e => e.IsTransient),
            MaxRetryAttempts = 5,
            Delay = TimeSpan.FromMilliseconds(100),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        }));
        services.AddSingleton<RunEvents>();
        services.AddSingleton<Notifications.WebhookOutbox>();
        services.AddSingleton<RunStore>();
        services.AddSingleton<RunStateCounts>();
        services.AddSingleton<DatabaseInitializer>();
        // Registered before the executor so the schema exists before the first claim.
        services.AddHostedService<DatabaseInitializerService>();
        return services;
    }
}
