using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Wes.Persistence;

/// <summary>Lets `dotnet ef migrations add` build the model without starting the server.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<WesDbContext>
{
    public WesDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<WesDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
