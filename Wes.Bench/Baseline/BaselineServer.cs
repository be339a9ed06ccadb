using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Wes.Bench.Baseline;

/// <summary>
/// The bare server the measurements are compared with: the same ASP.NET Core host and Kestrel defaults as Wes.Host,
/// and nothing else. GET /bare answers a small JSON object; POST /bare/insert stores the request body as one row of a
/// SQLite file in WAL mode with synchronous=NORMAL, which commits without an fsync.
/// </summary>
internal static class BaselineServer
{
    /// <summary>The hidden first argument that makes this tool run the baseline server instead of a scenario.</summary>
    public const string Command = "baseline-server";

    /// <summary>The SQLite file POST /bare/insert writes to.</summary>
    public const string DatabaseVariable = "WES_BENCH_BASELINE_DB";

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        // Wes.Host's log levels: nothing is written per request.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Environment.GetEnvironmentVariable(DatabaseVariable) ?? throw new InvalidOperationException($"{DatabaseVariable} is not set."),
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        await using (var connection = new SqliteConnection(connectionString))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync(
                "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL, at INTEGER NOT NULL)");
        }

        var app = builder.Build();
        app.MapGet("/bare", () => TypedResults.Ok(new BareAnswer("bare", 1)));
        app.MapPost("/bare/insert", async (HttpRequest request, CancellationToken ct) =>
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync(ct);
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync(ct);
            // synchronous is a per-connection setting, so it is set on every (pooled) connection before the write.
            var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "PRAGMA synchronous=NORMAL; INSERT INTO rows (body, at) VALUES (@body, @at) RETURNING id",
                new { body, at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, cancellationToken: ct));
            return TypedResults.Ok(new BareInserted(id));
        });
        await app.RunAsync();
        return 0;
    }

    private sealed record BareAnswer(string Name, int Version);

    private sealed record BareInserted(long Id);
}
