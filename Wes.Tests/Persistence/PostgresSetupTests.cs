using Npgsql;
using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Persistence;

[Collection(PostgresCollection.Name)]
public sealed class PostgresSetupTests(PostgresServer postgres)
{
    [Fact]
    public async Task ConnectionStringsSetting_SelectsPostgreSql()
    {
        using var factory = new WesApplicationFactory(workers: 1, settings: new Dictionary<string, string?> { ["ConnectionStrings:Wes"] = postgres.CreateDatabase() });
        using var client = factory.CreateWesClient();

        var runId = await client.SubmitAsync(new RunRequestBuilder());

        Assert.Equal(DatabaseKind.PostgreSql, factory.Service<RunStore>().Kind);
        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId));
    }

    [Fact]
    public async Task Migrate_CreatesThePostgreSqlSchema()
    {
        var database = postgres.CreateDatabase();
        using var dataDir = new DisposableDirectory();

        var (exitCode, output) = await HostProcess.RunToEndAsync(
            new Dictionary<string, string> { ["WES_DATA_DIR"] = dataDir.Path, ["WES_DATABASE"] = database }, "migrate");

        Assert.True(exitCode == 0, output);
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var tables = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('runs', 'run_state_history', 'run_tasks', 'executors', 'server_settings')", connection);
        Assert.Equal(5L, await tables.ExecuteScalarAsync());
    }

    private sealed class DisposableDirectory : IDisposable
    {
        public string Path { get; } = TempDirectory.Create("wes-migrate");

        public void Dispose() => TempDirectory.Delete(Path);
    }
}
