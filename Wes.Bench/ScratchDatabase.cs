using Npgsql;

namespace Wes.Bench;

/// <summary>
/// A fresh PostgreSQL database, wes_bench_&lt;guid&gt;, on an existing server, so no earlier run's rows are measured.
/// Disposing drops it (WITH (FORCE), in case a killed server left a connection behind).
/// </summary>
internal sealed class ScratchDatabase : IAsyncDisposable
{
    private static readonly TimeSpan DropLimit = TimeSpan.FromSeconds(30);

    private readonly string adminConnectionString;

    private ScratchDatabase(string adminConnectionString, string name, string connectionString, string serverVersion)
    {
        this.adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = connectionString;
        ServerVersion = serverVersion;
    }

    public string Name { get; }

    /// <summary>The admin connection string with Database set to the new database: what WES_DATABASE is given.</summary>
    public string ConnectionString { get; }

    /// <summary>The server's `SHOW server_version`, for the report.</summary>
    public string ServerVersion { get; }

    /// <exception cref="BenchException">The connection string is malformed or the server refused the connection or the CREATE.</exception>
    public static async Task<ScratchDatabase> CreateAsync(string adminConnectionString, CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder admin;
        try
        {
            // No pool: the admin connection is used twice, and a pooled one would linger on the server after the run.
            admin = new NpgsqlConnectionStringBuilder(adminConnectionString) { Pooling = false };
        }
        catch (ArgumentException ex)
        {
            throw new BenchException($"--postgres is not a valid Npgsql connection string: {ex.Message}");
        }

        var name = "wes_bench_" + Guid.NewGuid().ToString("N");
        try
        {
            await using var connection = new NpgsqlConnection(admin.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var version = new NpgsqlCommand("SHOW server_version", connection);
            var serverVersion = (string?)await version.ExecuteScalarAsync(cancellationToken) ?? "?";
            // The name is ours (letters, digits, underscores), so it needs no quoting.
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            var database = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
            await Console.Error.WriteLineAsync($"Created database {name} on {admin.Host}:{admin.Port} (PostgreSQL {serverVersion}).");
            return new ScratchDatabase(admin.ConnectionString, name, database, serverVersion);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            throw new BenchException($"Could not create database {name} on PostgreSQL at {admin.Host}:{admin.Port}: {ex.Message}");
        }
    }

    /// <summary>Refreshes the planner's statistics of every table, as autovacuum does some time after a large insert.</summary>
    public async Task AnalyzeAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var analyze = new NpgsqlCommand("ANALYZE", connection);
        await analyze.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var limit = new CancellationTokenSource(DropLimit);
            await using var connection = new NpgsqlConnection(adminConnectionString);
            await connection.OpenAsync(limit.Token);
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync(limit.Token);
            await Console.Error.WriteLineAsync($"Dropped database {Name}.");
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"warning: could not drop database {Name}: {ex.Message}; drop it by hand.");
        }
    }
}
