using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Persistence;

/// <summary>The classification of real driver exceptions: outages are told apart from statement errors, which stay bugs.</summary>
[Collection(PostgresCollection.Name)]
public sealed class StorageFaultsTests(PostgresServer postgres)
{
    [Fact]
    public async Task APostgreSqlSessionEndedByTheServer_IsAnOutage()
    {
        await using var connection = new NpgsqlConnection(postgres.CreateDatabase());
        await connection.OpenAsync();
        var pid = await connection.ExecuteScalarAsync<int>("SELECT pg_backend_pid()");
        await using (var admin = new NpgsqlConnection(postgres.AdminConnectionString))
        {
            // What a server shutdown or an administrator does to a session: 57P01 admin_shutdown.
            await admin.ExecuteAsync("SELECT pg_terminate_backend(@pid)", new { pid });
        }

        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(() => connection.ExecuteScalarAsync<int>("SELECT 1"));

        Assert.Equal(StorageFault.Unavailable, StorageFaults.Classify(error));
    }

    [Fact]
    public async Task APostgreSqlStatementError_IsNoStorageFault()
    {
        await using var connection = new NpgsqlConnection(postgres.CreateDatabase());

        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("SELECT * FROM no_such_table"));

        Assert.Equal(StorageFault.None, StorageFaults.Classify(error));
    }

    [Fact]
    public async Task ASqliteStatementError_IsNoStorageFault()
    {
        await using var connection = new SqliteConnection("Data Source=:memory:");
        await connection.OpenAsync();

        var error = await Assert.ThrowsAsync<SqliteException>(() => connection.ExecuteAsync("SELECT * FROM no_such_table"));

        Assert.Equal(StorageFault.None, StorageFaults.Classify(new InvalidOperationException("wrapped", error)));
    }
}
