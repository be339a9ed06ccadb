using Dapper;
using Wes.Runs;

namespace Wes.Persistence;

/// <summary>Lease hand-overs for work that runs elsewhere (a batch job, a remote run) and outlives its executor.</summary>
public sealed partial class RunStore
{
    /// <summary>
    /// Takes over the lease of a started run whose executor is gone, keeping its state and handle, so the new owner
    /// follows the same work instead of starting it again. Fenced on the lease as it was read, like the reconciler's
    /// other changes: a live owner that renewed it since keeps its run. Answers the run as adopted, or null.
    /// </summary>
    public Task<Run?> AdoptAsync(Run run, string owner, TimeSpan lease, string systemLog, CancellationToken cancellationToken) =>
        InTransactionAsync((connection, transaction, ct) => connection.QuerySingleOrDefaultAsync<Run>(new CommandDefinition(
            $"""
            UPDATE runs SET lease_owner = @owner, lease_expires_at = @leaseUntil, updated_at = @now,
                system_logs_json = {database.AppendSystemLogSql}
            WHERE run_id = @runId AND state = @state AND provider_handle = @handle
              AND (lease_owner = @oldOwner OR (lease_owner IS NULL AND @oldOwner IS NULL))
              AND (lease_expires_at = @oldExpiresAt OR (lease_expires_at IS NULL AND @oldExpiresAt IS NULL))
            RETURNING {RunColumns}
            """,
            new
            {
                runId = run.RunId, state = run.State, handle = run.ProviderHandle, owner, now = Now,
                leaseUntil = Now + (long)lease.TotalMilliseconds, oldOwner = run.LeaseOwner, oldExpiresAt = run.LeaseExpiresAt, systemLog,
            }, transaction, cancellationToken: ct)), cancellationToken);

    /// <summary>
    /// Gives up this executor's lease on a run whose work goes on elsewhere (shutting down), keeping its state and
    /// handle, so the next executor's reconciler adopts it at once rather than after the lease runs out.
    /// </summary>
    public Task ReleaseLeaseAsync(string runId, string owner, CancellationToken cancellationToken) =>
        InTransactionAsync((connection, transaction, ct) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL WHERE run_id = @runId AND lease_owner = @owner",
            new { runId, owner }, transaction, cancellationToken: ct)), cancellationToken);

    /// <summary>
    /// Records the handle (and command) of work started elsewhere while the run stays INITIALIZING, fenced on this
    /// executor's lease; false when the run is no longer INITIALIZING under it (canceled meanwhile, or taken over).
    /// </summary>
    public async Task<bool> RecordHandleAsync(string runId, string owner, string handle, string commandJson, string systemLog, CancellationToken cancellationToken) =>
        await InTransactionAsync((connection, transaction, ct) => connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE runs SET provider_handle = @handle, cmd_json = @commandJson, updated_at = @now,
                system_logs_json = {database.AppendSystemLogSql}
            WHERE run_id = @runId AND state = 'INITIALIZING' AND lease_owner = @owner
            """,
            new { runId, owner, handle, commandJson, systemLog, now = Now }, transaction, cancellationToken: ct)), cancellationToken) == 1;
}
