using System.Text.Json.Nodes;
using Wes.Execution.Engines;
using Wes.Providers;
using Wes.Runs;

namespace Wes.Tests.Execution.Detached;

/// <summary>
/// A detached provider whose "remote work" is a folder the test controls: the job ends when the test writes its
/// result file, and a cancel is seen as a file the provider writes. Shared by the servers of one test, so a restarted
/// server finds the same jobs. Stands in for a batch scheduler or a remote server, which have tests of their own.
/// </summary>
public sealed class FileJobProvider(string jobsDir, EngineCatalog catalog, bool canFollow = true) : IDetachedProvider
{
    public const string ProviderName = "FileJob";
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    private static readonly Lock StartsLock = new();

    public string Name => ProviderName;
    /// <summary>Every start by any server of the test, from the file they share.</summary>
    public int Starts => StartLines().Length;
    public int StartsOf(string runId) => StartLines().Count(line => line == runId);

    private string[] StartLines()
    {
        lock (StartsLock)
        {
            var path = Path.Combine(jobsDir, "starts");
            return File.Exists(path) ? File.ReadAllLines(path) : [];
        }
    }
    public bool CanFollow => canFollow;
    public bool OfferedByDefault => true;

    public string JobDir(string runId) => Path.Combine(jobsDir, runId);
    public void Finish(string runId, string result) => File.WriteAllText(Path.Combine(JobDir(runId), "result"), result);

    /// <summary>The job leaves the queue and runs.</summary>
    public void Begin(string runId) => File.WriteAllText(Path.Combine(JobDir(runId), "running"), "");
    public bool WasCanceled(string runId) => File.Exists(Path.Combine(JobDir(runId), "canceled"));

    public Task<IReadOnlyList<AvailableEngine>> GetEnginesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<AvailableEngine>>(catalog.Registered.Select(e => new AvailableEngine(e, "1.0", e.Executable)).ToArray());

    public Task<PreparedWork> PrepareAsync(ExecutionRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new PreparedWork(["filejob", request.Run.WorkflowUrl]));

    public Task<string> StartAsync(ExecutionRequest request, PreparedWork work, CancellationToken cancellationToken)
    {
        lock (StartsLock)
        {
            File.AppendAllLines(Path.Combine(jobsDir, "starts"), [request.Run.RunId]);
        }

        Directory.CreateDirectory(JobDir(request.Run.RunId));
        return Task.FromResult($"filejob:{request.Run.RunId}");
    }

    public async Task<ExecutionResult> FollowAsync(ExecutionRequest request, string handle, CancellationToken cancel, CancellationToken leave)
    {
        var dir = JobDir(handle["filejob:".Length..]);
        if (!Directory.Exists(dir))
        {
            return new ExecutionResult(ExecutionOutcome.SystemError, Message: $"job {handle} is not known");
        }

        using var timer = new PeriodicTimer(Poll);
        while (await timer.WaitForNextTickAsync(leave))
        {
            if (cancel.IsCancellationRequested)
            {
                await File.WriteAllTextAsync(Path.Combine(dir, "canceled"), "", CancellationToken.None);
                return new ExecutionResult(ExecutionOutcome.Stopped);
            }

            if (File.Exists(Path.Combine(dir, "running")))
            {
                await request.MarkRunningAsync(leave);
            }

            var resultPath = Path.Combine(dir, "result");
            if (File.Exists(resultPath))
            {
                var result = await File.ReadAllTextAsync(resultPath, CancellationToken.None);
                return result switch
                {
                    "ok" => new ExecutionResult(ExecutionOutcome.Succeeded, 0, new JsonObject { ["answer"] = handle }),
                    "lost" => new ExecutionResult(ExecutionOutcome.SystemError, Message: $"job {handle} is not known") { Retryable = false },
                    "node failed" => new ExecutionResult(ExecutionOutcome.SystemError, Message: "the node failed"),
                    _ => new ExecutionResult(ExecutionOutcome.Failed, 3, Message: result),
                };
            }
        }

        throw new OperationCanceledException(leave);
    }

    public IReadOnlyList<RunTask> ReadTasks(ExecutionRequest request) => [];
}
