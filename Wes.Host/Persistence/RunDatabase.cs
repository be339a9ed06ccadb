using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Wes.Persistence;

public enum DatabaseKind
{
    Sqlite,
    PostgreSql,
}

/// <summary>
/// The seam between the two databases: how to connect, the few statements whose SQL differs, and the wake-up
/// notifications PostgreSQL can send to executors in other processes.
/// </summary>
public interface IRunDatabase
{
    DatabaseKind Kind { get; }
    string ConnectionString { get; }

    Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Opens a connection synchronously, for work that must not depend on the thread pool (the lease keeper).</summary>
    DbConnection Open();

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction and completes once it has committed. On SQLite, writes
    /// waiting at the same time share one transaction and one commit (<see cref="SqliteGroupCommit"/>).
    /// </summary>
    Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>
    /// Runs one autocommitted write synchronously on the calling thread, ahead of any writes queued for a group commit
    /// (the lease keeper's renewals: they must not wait behind a stream of other writes, nor for the thread pool).
    /// </summary>
    T WriteNow<T>(Func<DbConnection, T> write, TimeSpan timeout);

    /// <summary>UPDATE that moves the oldest claimable QUEUED run to INITIALIZING and returns it.</summary>
    string ClaimNextSql(string returningColumns);

    /// <summary>SQL condition: run_id is one of the list parameter @runIds.</summary>
    string RunIdInListSql { get; }

    /// <summary>SQL expression: system_logs_json with @systemLog appended.</summary>
    string AppendSystemLogSql { get; }

    /// <summary>Sends a notification that is delivered when the transaction commits (PostgreSQL only).</summary>
    Task NotifyAsync(DbConnection connection, DbTransaction transaction, string channel, string payload, CancellationToken cancellationToken);

    /// <summary>Serialises the transactions that take the same key, until they end (a check-then-insert on one owner's runs).</summary>
    Task LockSubmitterAsync(DbConnection connection, DbTransaction transaction, string key, CancellationToken cancellationToken);
}

public static class NotifyChannels
{
    /// <summary>A run became claimable: executors should try to claim.</summary>
    public const string Runs = "wes_runs";

    /// <summary>A run moved to CANCELING: the executor holding it should stop its engine (payload: run id).</summary>
    public const string Cancel = "wes_cancel";
}

public sealed class SqliteRunDatabase : IRunDatabase, IAsyncDisposable, IDisposable
{
    private const string Claimable = "state = 'QUEUED' AND (not_before IS NULL OR not_before <= @now)";

    private readonly SqliteGroupCommit _writes;

    public SqliteRunDatabase(string connectionString)
    {
        ConnectionString = new SqliteConnectionStringBuilder(connectionString)
        {
            Pooling = true,
            // Writers queue on the database lock for up to this long instead of failing with SQLITE_BUSY.
            DefaultTimeout = 30,
        }.ToString();
        _writes = new SqliteGroupCommit(OpenForWrites);
    }

    public Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        _writes.WriteAsync(work, cancellationToken);

    public T WriteNow<T>(Func<DbConnection, T> write, TimeSpan timeout) => _writes.WriteNow(write, timeout);

    internal SqliteGroupCommit Writes => _writes;

    public ValueTask DisposeAsync() => _writes.DisposeAsync();

    // A host disposed synchronously still answers every queued write before the process goes on.
    public void Dispose() => _writes.DisposeAsync().AsTask().GetAwaiter().GetResult();

    public DatabaseKind Kind => DatabaseKind.Sqlite;
    public string ConnectionString { get; }

    // Microsoft.Data.Sqlite opens synchronously either way.
    public Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => Task.FromResult(Open());

    public DbConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    /// <summary>
    /// A connection for the group commit's transactions: their commit reaches the disk before it returns, so an
    /// answered write survives a power cut. FULL is the library's default today; it is set here so that no other
    /// build's default can weaken it, and only here, so reads do not pay a statement for it on every open.
    /// </summary>
    private DbConnection OpenForWrites()
    {
        var connection = Open();
        using var synchronous = connection.CreateCommand();
        synchronous.CommandText = "PRAGMA synchronous=FULL";
        synchronous.ExecuteNonQuery();
        return connection;
    }

    // A write transaction is BEGIN IMMEDIATE, so one process at a time runs this: no run is claimed twice.
    public string ClaimNextSql(string returningColumns) => $"""
        UPDATE runs SET state = 'INITIALIZING', lease_owner = @owner, lease_expires_at = @leaseUntil,
                        attempt = attempt + 1, started_at = COALESCE(started_at, @now), updated_at = @now,
                        exit_code = NULL, engine_pid = NULL, provider_handle = NULL, not_before = NULL
        WHERE seq = (SELECT seq FROM runs WHERE {Claimable} ORDER BY seq LIMIT 1) AND state = 'QUEUED'
        RETURNING {returningColumns}
        """;

    // Dapper expands the list into one parameter per item.
    public string RunIdInListSql => "run_id IN @runIds";

    public string AppendSystemLogSql => "json_insert(COALESCE(system_logs_json, '[]'), '$[#]', @systemLog)";

    public Task NotifyAsync(DbConnection connection, DbTransaction transaction, string channel, string payload, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    // Every write transaction already holds the database's one write lock (BEGIN IMMEDIATE).
    public Task LockSubmitterAsync(DbConnection connection, DbTransaction transaction, string key, CancellationToken cancellationToken) =>
        Task.CompletedTask;
}

public sealed class PostgresRunDatabase(NpgsqlDataSource dataSource) : IRunDatabase
{
    public DatabaseKind Kind => DatabaseKind.PostgreSql;
    public string ConnectionString => dataSource.ConnectionString;

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await dataSource.OpenConnectionAsync(cancellationToken);

    public DbConnection Open() => dataSource.OpenConnection();

    public T WriteNow<T>(Func<DbConnection, T> write, TimeSpan timeout)
    {
        using var connection = Open();
        return write(connection);
    }

    // PostgreSQL commits concurrent transactions with one WAL flush by itself; each write keeps its own transaction.
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await work(connection, transaction, cancellationToken);
        // Not cancellable: a COMMIT the server may already have applied must not be reported to the caller as undone.
        await transaction.CommitAsync(CancellationToken.None);
        return result;
    }

    // SKIP LOCKED: concurrent claimers each take a different row and never wait for one another.
    public string ClaimNextSql(string returningColumns) => $"""
        UPDATE runs SET state = 'INITIALIZING', lease_owner = @owner, lease_expires_at = @leaseUntil,
                        attempt = attempt + 1, started_at = COALESCE(started_at, @now), updated_at = @now,
                        exit_code = NULL, engine_pid = NULL, provider_handle = NULL, not_before = NULL
        WHERE seq = (SELECT seq FROM runs WHERE state = 'QUEUED' AND (not_before IS NULL OR not_before <= @now)
                     ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
          AND state = 'QUEUED'
        RETURNING {returningColumns}
        """;

    // Dapper passes a list to Npgsql as one array parameter, which IN cannot take.
    public string RunIdInListSql => "run_id = ANY(@runIds)";

    public string AppendSystemLogSql => "(COALESCE(system_logs_json, '[]')::jsonb || jsonb_build_array(@systemLog::text))::text";

    public Task NotifyAsync(DbConnection connection, DbTransaction transaction, string channel, string payload, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("SELECT pg_notify(@channel, @payload)", new { channel, payload }, transaction, cancellationToken: cancellationToken));

    // Released at commit or rollback; a hash collision between two keys only makes them wait for each other.
    public Task LockSubmitterAsync(DbConnection connection, DbTransaction transaction, string key, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(hashtext(@key))", new { key }, transaction, cancellationToken: cancellationToken));
}

/// <summary>What a storage or database failure means for a client: wait for space, or wait and retry.</summary>
public enum StorageFault
{
    /// <summary>Not a storage fault: a bug or bad input, handled where it is raised.</summary>
    None,

    /// <summary>The disk (or the database server's disk) is full; nothing was written.</summary>
    OutOfSpace,

    /// <summary>The database or the data folder cannot be written or reached right now.</summary>
    Unavailable,
}

/// <summary>Sorts the exceptions of a full disk and of an unwritable or unreachable database from every other failure.</summary>
public static class StorageFaults
{
    // errno values (.NET puts the errno into IOException.HResult on Unix) and Windows' disk-full HRESULTs.
    private const int Enospc = 28;
    private const int Erofs = 30;
    private const int Edquot = 122;
    private const int WindowsDiskFull = unchecked((int)0x80070070);
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027);

    public static StorageFault Classify(Exception exception)
    {
        foreach (var cause in Causes(exception))
        {
            var fault = cause switch
            {
                IOException io => io.HResult switch
                {
                    Enospc or Edquot or WindowsDiskFull or WindowsHandleDiskFull => StorageFault.OutOfSpace,
                    Erofs => StorageFault.Unavailable,
                    _ => StorageFault.None,
                },
                // Primary result codes: FULL; BUSY and LOCKED (after the retries), READONLY, IOERR, CANTOPEN.
                SqliteException sqlite => (sqlite.SqliteErrorCode & 0xFF) switch
                {
                    13 => StorageFault.OutOfSpace,
                    5 or 6 or 8 or 10 or 14 => StorageFault.Unavailable,
                    _ => StorageFault.None,
                },
                PostgresException postgres => ClassifyPostgres(postgres.SqlState),
                // Any other Npgsql failure happened below SQL: refused, reset or timed-out connections, an exhausted pool.
                NpgsqlException => StorageFault.Unavailable,
                _ => StorageFault.None,
            };
            if (fault != StorageFault.None)
            {
                return fault;
            }

            // A statement error is never an outage, whatever it wraps.
            if (cause is PostgresException or SqliteException)
            {
                return StorageFault.None;
            }
        }

        return StorageFault.None;
    }

    public static bool IsOutOfSpace(Exception exception) => Classify(exception) == StorageFault.OutOfSpace;

    /// <summary>
    /// Whether trying again may succeed: a storage fault, any I/O error or time-out, or a PostgreSQL error of a class
    /// that passes (resources, operator intervention, system error, serialization or deadlock). An error that will
    /// happen again however often it is tried (bad SQL, a constraint) is not, and must not be retried forever.
    /// </summary>
    public static bool MayClear(Exception exception) =>
        Classify(exception) != StorageFault.None || exception is IOException or TimeoutException ||
        exception is PostgresException postgres && PassingPostgresClasses.Any(c => postgres.SqlState.StartsWith(c, StringComparison.Ordinal));

    // Insufficient resources, operator intervention, system error, transaction rollback (serialization, deadlock).
    private static readonly string[] PassingPostgresClasses = ["53", "57", "58", "40"];

    /// <summary>53100 disk_full; server shutting down or not accepting connections, too many connections, class 08 connection errors.</summary>
    private static StorageFault ClassifyPostgres(string sqlState) => sqlState switch
    {
        "53100" => StorageFault.OutOfSpace,
        "57P01" or "57P02" or "57P03" or "53300" => StorageFault.Unavailable,
        _ when sqlState.StartsWith("08", StringComparison.Ordinal) => StorageFault.Unavailable,
        _ => StorageFault.None,
    };

    private static IEnumerable<Exception> Causes(Exception exception)
    {
        var pending = new Stack<Exception>([exception]);
        while (pending.TryPop(out var cause))
        {
            yield return cause;
            if (cause is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.Reverse())
                {
                    pending.Push(inner);
                }
            }
            else if (cause.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }
}
