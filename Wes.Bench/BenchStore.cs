using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Wes.Configuration;
using Wes.Persistence;

namespace Wes.Bench;

/// <summary>
/// The server's own store and migrations on a benchmark's database, opened in this process: to seed it before the
/// server starts, and to read run history (with the server's millisecond timestamps) while or after it runs.
/// </summary>
internal sealed class BenchStore : IDisposable
{
    private readonly IHost host;

    private BenchStore(IHost host)
    {
        this.host = host;
        Store = host.Services.GetRequiredService<RunStore>();
    }

    public RunStore Store { get; }

    /// <summary>
    /// SQLite at <paramref name="dataDir"/>/wes.db, or the PostgreSQL database <paramref name="postgres"/>; migrated first
    /// when <paramref name="migrate"/> (a database the running server already migrated is only read).
    /// </summary>
    public static async Task<BenchStore> OpenAsync(string dataDir, string? postgres, bool migrate, CancellationToken cancellationToken)
    {
        // No default sources: the caller's environment (WES_*, appsettings.json) must not choose the database.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = dataDir });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WES_DATA_DIR"] = dataDir,
            ["WES_DATABASE"] = postgres,
        });
        builder.AddWesConfiguration();
        builder.Services.AddLogging();
        builder.Services.AddWesPersistence();
        var store = new BenchStore(builder.Build());
        try
        {
            if (migrate)
            {
                await store.host.Services.GetRequiredService<DatabaseInitializer>().MigrateAsync(cancellationToken);
            }

            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    public void Dispose() => host.Dispose();
}
