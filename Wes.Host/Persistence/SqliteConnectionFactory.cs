using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Persistence;

/// <summary>Opens connections for Dapper with the settings every connection needs.</summary>
public sealed class SqliteConnectionFactory(IOptions<WesOptions> options)
{
    private readonly string _connectionString = new SqliteConnectionStringBuilder(options.Value.ConnectionString)
    {
        Pooling = true,
        // Writers queue on the database lock for up to this long instead of failing with SQLITE_BUSY.
        DefaultTimeout = 30,
    }.ToString();

    public string ConnectionString => _connectionString;

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
