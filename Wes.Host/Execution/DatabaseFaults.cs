using Microsoft.Data.Sqlite;
using Npgsql;

namespace Wes.Execution;

/// <summary>
/// Tells a database fault that may clear by itself (a full disk, a lost connection, a busy or read-only file) from an
/// error that will happen again however often it is tried (bad SQL, a constraint), which must not be retried forever.
/// </summary>
public static class DatabaseFaults
{
    // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN.
    private static readonly HashSet<int> SqliteFaults = [5, 6, 8, 10, 13, 14];

    // Connection, resources, operator intervention, system error, transaction rollback (serialization, deadlock).
    private static readonly string[] PostgresFaultClasses = ["08", "53", "57", "58", "40"];

    public static bool MayClear(Exception exception) => exception switch
    {
        SqliteException sqlite => SqliteFaults.Contains(sqlite.SqliteErrorCode),
        PostgresException postgres => PostgresFaultClasses.Any(c => postgres.SqlState.StartsWith(c, StringComparison.Ordinal)),
        NpgsqlException => true,
        IOException or TimeoutException => true,
        _ => false,
    };
}
