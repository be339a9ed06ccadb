using System.Diagnostics;
using Npgsql;

namespace Wes.Tests.Support;

/// <summary>
/// A real PostgreSQL server for the tests: the one named by WES_TEST_POSTGRES (which `.ci/run` starts), or else a
/// throwaway cluster started here with initdb and pg_ctl on a free loopback port and removed after the tests.
/// Each test gets a database of its own.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private readonly string? _clusterDir;

    public PostgresServer()
    {
        var configured = Environment.GetEnvironmentVariable("WES_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            AdminConnectionString = configured;
            return;
        }

        _clusterDir = TempDirectory.Create("wes-pg");
        var port = LocalHttpServer.FreePort();
        var asPostgres = Environment.UserName == "root";
        if (asPostgres)
        {
            Run("chown", "postgres", _clusterDir);
        }

        RunPg(asPostgres, "initdb", "-D", Path.Combine(_clusterDir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8");
        RunPg(asPostgres, "pg_ctl", "-D", Path.Combine(_clusterDir, "data"), "-l", Path.Combine(_clusterDir, "log"), "-w",
            "-o", $"-p {port} -k {_clusterDir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off", "start");
        AdminConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
    }

    public string AdminConnectionString { get; }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public string CreateDatabase()
    {
        var name = "wes_" + Guid.NewGuid().ToString("N");
        using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            admin.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            create.ExecuteNonQuery();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ToString();
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        if (_clusterDir is not null)
        {
            RunPg(Environment.UserName == "root", "pg_ctl", "-D", Path.Combine(_clusterDir, "data"), "-m", "immediate", "-w", "stop");
            TempDirectory.Delete(_clusterDir);
        }
    }

    private static void RunPg(bool asPostgres, string program, params string[] arguments)
    {
        var path = FindPgProgram(program);
        if (asPostgres)
        {
            Run("runuser", ["-u", "postgres", "--", path, .. arguments]);
        }
        else
        {
            Run(path, arguments);
        }
    }

    private static string FindPgProgram(string program)
    {
        var onPath = Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);
        var installed = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(dir => Path.Combine(dir, "bin", program)).FirstOrDefault(File.Exists)
            : null;
        return onPath ?? installed ?? throw new InvalidOperationException(
            $"{program} not found: install PostgreSQL (apt-get install -y postgresql) or set WES_TEST_POSTGRES to a server's connection string.");
    }

    private static void Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error}{output.Result}");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}
