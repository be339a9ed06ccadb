using Microsoft.EntityFrameworkCore;
using Wes.Runs;

namespace Wes.Persistence;

/// <summary>Owns the schema; each database has its own subclass so each keeps its own migrations.</summary>
public abstract class WesDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Run> Runs => Set<Run>();
    public DbSet<RunStateChange> StateHistory => Set<RunStateChange>();
    public DbSet<RunTask> Tasks => Set<RunTask>();
    public DbSet<ServerSetting> Settings => Set<ServerSetting>();
    public DbSet<ExecutorRecord> Executors => Set<ExecutorRecord>();
    public DbSet<SubmissionKey> SubmissionKeys => Set<SubmissionKey>();
    public DbSet<RunStateCount> StateCounts => Set<RunStateCount>();
    public DbSet<Notifications.WebhookDelivery> WebhookDeliveries => Set<Notifications.WebhookDelivery>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(WesDbContext).Assembly);
}

public sealed class SqliteWesDbContext(DbContextOptions<SqliteWesDbContext> options) : WesDbContext(options);

public sealed class PostgresWesDbContext(DbContextOptions<PostgresWesDbContext> options) : WesDbContext(options);
