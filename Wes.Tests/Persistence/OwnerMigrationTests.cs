using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Persistence;

/// <summary>AddRunOwner on a database that already holds runs: they keep everything and get no owner.</summary>
public abstract class OwnerMigrationContract
{
    protected abstract WesDbContext CreateContext();

    protected abstract Task<System.Data.Common.DbConnection> OpenAsync();

    protected abstract string InitialMigration { get; }

    [Fact]
    public async Task ExistingRuns_GetNoOwner_AndTheOwnerIndexesExist()
    {
        await using (var db = CreateContext())
        {
            await db.GetService<IMigrator>().MigrateAsync(InitialMigration);
        }

        await using (var connection = await OpenAsync())
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO runs (run_id, state, submitted_at, updated_at, provider, workflow_type, workflow_type_version, workflow_url,
                                  engine, attempt, request_json, tags_json, system_logs_json)
                VALUES ('old-run', 'COMPLETE', 1, 1, 'Local', 'CWL', 'v1.0', 'a.cwl', 'cwltool', 1, '{}', '{}', '[]')
                """);
        }

        await using (var db = CreateContext())
        {
            await db.Database.MigrateAsync();
        }

        await using (var connection = await OpenAsync())
        {
            var run = await connection.QuerySingleAsync<(string State, string? Owner)>("SELECT state, owner FROM runs WHERE run_id = 'old-run'");
            Assert.Equal(("COMPLETE", (string?)null), run);
            var indexes = await connection.QueryAsync<string>(IndexNamesSql);
            Assert.Contains("IX_runs_owner_seq", indexes);
            Assert.Contains("IX_runs_owner_state", indexes);
        }
    }

    protected abstract string IndexNamesSql { get; }
}

public sealed class SqliteOwnerMigrationTests : OwnerMigrationContract, IDisposable
{
    private readonly string _dir = TempDirectory.Create("wes-migration");

    private string ConnectionString => $"Data Source={Path.Combine(_dir, "wes.db")};Pooling=false";

    public void Dispose() => TempDirectory.Delete(_dir);

    protected override string InitialMigration => "20261129225338_InitialSchema";

    protected override string IndexNamesSql => "SELECT name FROM sqlite_master WHERE type = 'index'";

    protected override WesDbContext CreateContext() =>
        new SqliteWesDbContext(new DbContextOptionsBuilder<SqliteWesDbContext>().UseSqlite(ConnectionString).Options);

    protected override async Task<System.Data.Common.DbConnection> OpenAsync()
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresOwnerMigrationTests(PostgresServer postgres) : OwnerMigrationContract
{
    private readonly string _connectionString = postgres.CreateDatabase();

    protected override string InitialMigration => "20261129225356_InitialSchema";

    protected override string IndexNamesSql => "SELECT indexname FROM pg_indexes WHERE tablename = 'runs'";

    protected override WesDbContext CreateContext() =>
        new PostgresWesDbContext(new DbContextOptionsBuilder<PostgresWesDbContext>().UseNpgsql(_connectionString).Options);

    protected override async Task<System.Data.Common.DbConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        return connection;
    }
}
