using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using Wes.Persistence;
using Wes.Runs;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>Ended runs with a full run folder (attachments, outputs, scratch, engine files, logs, a task log link), stored as they are.</summary>
public static class RetentionRuns
{
    public const string TaskId = "step1";

    /// <summary>Stores an ended run that ended <paramref name="endedAgo"/> before now, with its files on disk.</summary>
    public static async Task<string> EndedAsync(WesApplicationFactory factory, TimeSpan endedAgo, string state = "COMPLETE")
    {
        var run = RunBuilder.Queued();
        var endedAt = DateTimeOffset.UtcNow - endedAgo;
        run.State = state;
        run.StartedAt = (endedAt - TimeSpan.FromMinutes(5)).ToUnixTimeMilliseconds();
        run.EndedAt = endedAt.ToUnixTimeMilliseconds();
        await factory.Service<RunStore>().ImportAsync([run], [], CancellationToken.None);
        await ExecuteAsync(factory, "INSERT INTO run_tasks (run_id, task_id, name) VALUES (@RunId, @TaskId, 'step one')", new { run.RunId, TaskId });
        PlantFiles(Path.Combine(factory.RunsDir, run.RunId));
        return run.RunId;
    }

    public static void PlantFiles(string root)
    {
        Write(Path.Combine(root, "exe", "hello.cwl"), "cwlVersion: v1.0");
        Write(Path.Combine(root, "outputs", "result.txt"), "the result");
        Write(Path.Combine(root, "tmp", "scratch.bin"), "scratch");
        Write(Path.Combine(root, "engine", "jobs", "step1.out"), "what step one printed");
        Write(Path.Combine(root, "stdout.log"), "engine stdout");
        Write(Path.Combine(root, "stderr.log"), "engine stderr");
        Write(Path.Combine(root, "attempts", "1", "stderr.log"), "first attempt's stderr");
        Directory.CreateDirectory(Path.Combine(root, "tasks", TaskId));
        File.CreateSymbolicLink(Path.Combine(root, "tasks", TaskId, "stdout"), Path.Combine(root, "engine", "jobs", "step1.out"));
    }

    public static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    public static async Task<long?> FilesRemovedAtAsync(WesApplicationFactory factory, string runId) =>
        (await factory.Service<RunStore>().GetFileStatusAsync(runId, CancellationToken.None))!.FilesRemovedAt;

    private static async Task ExecuteAsync(WesApplicationFactory factory, string sql, object parameters)
    {
        var database = factory.Service<IRunDatabase>();
        await using System.Data.Common.DbConnection connection = database.Kind == DatabaseKind.Sqlite
            ? new SqliteConnection(database.ConnectionString)
            : new NpgsqlConnection(database.ConnectionString);
        await connection.ExecuteAsync(sql, parameters);
    }
}
