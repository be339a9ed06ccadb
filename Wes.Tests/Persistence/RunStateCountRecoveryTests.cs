using System.Data.Common;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using Wes.Tests.Support;

namespace Wes.Tests.Persistence;

/// <summary>The kept run counts through a killed server and through `migrate`, with real processes on each database.</summary>
public abstract class RunStateCountRecoveryContract : IDisposable
{
    protected string DataDir { get; } = TempDirectory.Create("wes-counts");

    public void Dispose()
    {
        TempDirectory.Delete(DataDir);
        GC.SuppressFinalize(this);
    }

    protected abstract string DatabaseSetting { get; }

    protected abstract DbConnection Connect();

    private Dictionary<string, string> Environment() => new()
    {
        ["WES_DATA_DIR"] = DataDir,
        ["WES_DATABASE"] = DatabaseSetting,
        ["DEFAULT_WES_PROVIDER"] = "Mock",
        ["WES_MAX_CONCURRENT_RUNS"] = "3",
        ["WES_SHUTDOWN_GRACE"] = "0",
        ["Wes__Mock__DelayMilliseconds"] = "300",
    };

    [Fact]
    public async Task Counts_StayExact_WhenTheServerIsKilledWhileRunsMove_AndTheRestartFinishesThem()
    {
        var environment = Environment();
        var runIds = new List<string>();
        using (var host = await HostProcess.StartAsync(environment))
        {
            using var client = Client(host);
            for (var i = 0; i < 12; i++)
            {
                runIds.Add(await client.SubmitAsync(new RunRequestBuilder()));
            }

            // Killed once some runs have finished and others are under way: QUEUED, RUNNING and COMPLETE all hold runs.
            await ProcessTable.WaitUntilAsync(async () =>
            {
                var states = await Task.WhenAll(runIds.Select(client.StateAsync));
                return states.Contains("COMPLETE") && states.Any(s => s is "INITIALIZING" or "RUNNING");
            }, TimeSpan.FromSeconds(60), "some runs complete while others run");
            host.Signal("KILL");
            await host.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        await using (var connection = Connect())
        {
            await StateCountAssert.ExactAsync(connection);
        }

        using var restarted = await HostProcess.StartAsync(environment);
        using var wes = Client(restarted);
        foreach (var runId in runIds)
        {
            await wes.WaitForTerminalAsync(runId);
        }

        await using (var connection = Connect())
        {
            await StateCountAssert.ExactAsync(connection);
            var actual = await StateCountAssert.ActualAsync(connection);
            Assert.Equal(12, actual.Values.Sum());
            var reported = (await wes.GetJsonAsync("/service-info"))["system_state_counts"]!.AsObject();
            Assert.All(actual, pair => Assert.Equal(pair.Value, reported[pair.Key]!.GetValue<long>()));
            Assert.All(reported.Where(pair => !actual.ContainsKey(pair.Key)), pair => Assert.Equal(0, pair.Value!.GetValue<long>()));
        }
    }

    [Fact]
    public async Task Migrate_RebuildsCountsThatWereTamperedWith_AndNamesTheWrongStates()
    {
        var environment = Environment();
        var (created, createOutput) = await HostProcess.RunToEndAsync(environment, "migrate");
        Assert.True(created == 0, createOutput);
        await using (var connection = Connect())
        {
            foreach (var (runId, state) in new[] { ("a", "QUEUED"), ("b", "QUEUED"), ("c", "RUNNING"), ("d", "COMPLETE") })
            {
                await connection.ExecuteAsync(
                    """
                    INSERT INTO runs (run_id, state, submitted_at, updated_at, provider, workflow_type, workflow_type_version, workflow_url,
                                      engine, attempt, request_json, tags_json, system_logs_json)
                    VALUES (@runId, @state, 1, 1, 'Mock', 'CWL', 'v1.0', 'a.cwl', 'cwltool', 0, '{}', '{}', '[]')
                    """, new { runId, state });
            }

            await StateCountAssert.ExactAsync(connection);
            await connection.ExecuteAsync("UPDATE run_state_counts SET count = count + 5 WHERE state = 'QUEUED'");
            await connection.ExecuteAsync("INSERT INTO run_state_counts (state, shard, count) VALUES ('CANCELED', 7, 2)");
            await connection.ExecuteAsync("DELETE FROM run_state_counts WHERE state = 'RUNNING'");
        }

        var (exitCode, output) = await HostProcess.RunToEndAsync(environment, "migrate");

        Assert.True(exitCode == 0, output);
        Assert.Contains("CANCELED (kept 2, actual 0), QUEUED (kept 7, actual 2), RUNNING (kept 0, actual 1)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("COMPLETE (kept", output, StringComparison.Ordinal);
        await using (var connection = Connect())
        {
            await StateCountAssert.ExactAsync(connection);
        }
    }

    private static WesClient Client(HostProcess host) => new(new HttpClient { BaseAddress = new Uri(host.BaseUrl!) }, "/ga4gh/wes/v1");
}

public sealed class SqliteRunStateCountRecoveryTests : RunStateCountRecoveryContract
{
    protected override string DatabaseSetting => "";

    protected override DbConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(DataDir, "wes.db")};Pooling=False");
        connection.Open();
        return connection;
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresRunStateCountRecoveryTests(PostgresServer postgres) : RunStateCountRecoveryContract
{
    private readonly string _database = postgres.CreateDatabase();

    protected override string DatabaseSetting => _database;

    protected override DbConnection Connect()
    {
        var connection = new NpgsqlConnection(_database);
        connection.Open();
        return connection;
    }
}
