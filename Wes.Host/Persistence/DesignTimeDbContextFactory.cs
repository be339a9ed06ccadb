using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Wes.Persistence;

// Let `dotnet ef migrations add --context ...` build each model without starting the server.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteWesDbContext>
{
    public SqliteWesDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteWesDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresWesDbContext>
{
    public PostgresWesDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresWesDbContext>().UseNpgsql("Host=localhost;Database=wes_design").Options);
}
