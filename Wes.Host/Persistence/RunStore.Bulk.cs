using System.Data.Common;
using System.Text;
using Dapper;
using Wes.Runs;

namespace Wes.Persistence;

public sealed partial class RunStore
{
    // Rows per multi-row INSERT. SQLite looks each named parameter up by a linear search, so binding costs grow with
    // the square of a statement's parameters: about a thousand per statement is where larger stops being faster.
    private const int ImportRowsPerStatement = 50;

    // A negative cache_size is in KiB: 128 MB for the import's connection only.
    private const int ImportCacheKibibytes = -131_072;

    private static readonly string[] ImportRunColumns =
    [
        "run_id", "state", "submitted_at", "started_at", "ended_at", "updated_at", "provider", "owner", "workflow_type",
        "workflow_type_version", "workflow_url", "engine", "engine_version", "attempt", "exit_code", "error_message",
        "cmd_json", "outputs_json", "request_json", "tags_json", "system_logs_json",
    ];

    private static readonly string[] ImportHistoryColumns = ["run_id", "from_state", "to_state", "at", "actor", "reason"];

    /// <summary>
    /// Writes finished runs and their history rows as they are, in one transaction, with multi-row INSERTs: for seeding
    /// a database (benchmarks, imports), not for submissions. Plain INSERTs, so every trigger on the tables still fires.
    /// Nothing is announced: a QUEUED run among them is found by the executors' next poll.
    /// </summary>
    /// <remarks>Callers pass a few thousand runs at a time; each call is one transaction, retried whole on a busy database.</remarks>
    public Task ImportAsync(IReadOnlyList<Run> runs, IReadOnlyList<RunStateChange> history, CancellationToken cancellationToken) =>
        InTransactionAsync(async (connection, transaction, ct) =>
        {
            // Rows keyed by random run ids land on random index pages; with SQLite's default 2 MB page cache most of a
            // large import's time goes to re-reading them. The connection is pooled, so its own size is put back after.
            var cacheSize = Kind == DatabaseKind.Sqlite
                ? await connection.ExecuteScalarAsync<long>(new CommandDefinition("PRAGMA cache_size", transaction: transaction, cancellationToken: ct))
                : (long?)null;
            if (cacheSize is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition($"PRAGMA cache_size = {ImportCacheKibibytes}", transaction: transaction, cancellationToken: ct));
            }

            try
            {
                await InsertRowsAsync(connection, transaction, "runs", ImportRunColumns, runs, RunValues, ct);
                await InsertRowsAsync(connection, transaction, "run_state_history", ImportHistoryColumns, history, HistoryValues, ct);
            }
            finally
            {
                // Also after a failure: the pooled connection goes on to serve other writes. Best effort, so that a
                // transaction SQLite already rolled back does not hide the error that ended it.
                if (cacheSize is not null)
                {
                    try
                    {
                        await connection.ExecuteAsync(new CommandDefinition($"PRAGMA cache_size = {cacheSize}", cancellationToken: CancellationToken.None));
                    }
                    catch (Exception ex) when (ex is DbException or InvalidOperationException)
                    {
                        // The connection keeps the larger cache; it only costs memory.
                    }
                }
            }

            return runs.Count;
        }, cancellationToken);

    private static object?[] RunValues(Run run) =>
    [
        run.RunId, run.State, run.SubmittedAt, run.StartedAt, run.EndedAt, run.UpdatedAt, run.Provider, run.Owner, run.WorkflowType,
        run.WorkflowTypeVersion, run.WorkflowUrl, run.Engine, run.EngineVersion, run.Attempt, run.ExitCode, run.ErrorMessage,
        run.CmdJson, run.OutputsJson, run.RequestJson, run.TagsJson, run.SystemLogsJson,
    ];

    private static object?[] HistoryValues(RunStateChange change) =>
        [change.RunId, change.FromState, change.ToState, change.At, change.Actor, change.Reason];

    private static async Task InsertRowsAsync<T>(
        DbConnection connection, DbTransaction transaction, string table, string[] columns, IReadOnlyList<T> rows,
        Func<T, object?[]> values, CancellationToken cancellationToken)
    {
        // One command per statement size, reused with new values: a full chunk is parsed once per transaction.
        DbCommand? command = null;
        try
        {
            foreach (var chunk in rows.Chunk(ImportRowsPerStatement))
            {
                if (command is null || command.Parameters.Count != chunk.Length * columns.Length)
                {
                    if (command is not null)
                    {
                        await command.DisposeAsync();
                    }

                    command = MultiRowInsert(connection, transaction, table, columns, chunk.Length);
                }

                var i = 0;
                foreach (var row in chunk)
                {
                    foreach (var value in values(row))
                    {
                        command.Parameters[i++].Value = value ?? DBNull.Value;
                    }
                }

                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        finally
        {
            if (command is not null)
            {
                await command.DisposeAsync();
            }
        }
    }

    private static DbCommand MultiRowInsert(DbConnection connection, DbTransaction transaction, string table, string[] columns, int rows)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        var sql = new StringBuilder($"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ");
        for (var row = 0; row < rows; row++)
        {
            sql.Append(row == 0 ? "(" : ", (");
            for (var column = 0; column < columns.Length; column++)
            {
                var name = $"@p{(row * columns.Length) + column}";
                sql.Append(column == 0 ? name : ", " + name);
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                command.Parameters.Add(parameter);
            }

            sql.Append(')');
        }

        command.CommandText = sql.ToString();
        return command;
    }
}
