using Microsoft.EntityFrameworkCore;
using Wes.Runs;

namespace Wes.Persistence;

/// <summary>Owns the schema and its migrations; hot reads and writes go through <see cref="RunStore"/>.</summary>
public sealed class WesDbContext(DbContextOptions<WesDbContext> options) : DbContext(options)
{
    public DbSet<Run> Runs => Set<Run>();
    public DbSet<RunStateChange> StateHistory => Set<RunStateChange>();
    public DbSet<RunTask> Tasks => Set<RunTask>();
    public DbSet<ServerSetting> Settings => Set<ServerSetting>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(WesDbContext).Assembly);
}
