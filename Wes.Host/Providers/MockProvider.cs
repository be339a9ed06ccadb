using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution.Engines;
using Wes.Runs;

namespace Wes.Providers;

/// <summary>
/// A deterministic stand-in for tests and benchmarks: no engine, no network. A run takes Wes:Mock:DelayMilliseconds
/// (or its "wes.mock.delay_ms" tag) and ends as its "wes.mock.outcome" tag says (COMPLETE by default).
/// </summary>
public sealed class MockProvider(
    EngineCatalog catalog, Execution.ExecutorIdentity identity, IOptions<WesOptions> options, TimeProvider clock) : IExecutionProvider
{
    public const string DelayTag = "wes.mock.delay_ms";
    public const string OutcomeTag = "wes.mock.outcome";
    public const string ExitCodeTag = "wes.mock.exit_code";

    /// <summary>The first N attempts end SYSTEM_ERROR, for trying the retry policy.</summary>
    public const string FailAttemptsTag = "wes.mock.fail_attempts";
    public const string EngineVersion = "mock";

    private readonly SemaphoreSlim _logLock = new(1, 1);

    public string Name => "Mock";

    public Task<IReadOnlyList<AvailableEngine>> GetEnginesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<AvailableEngine>>(
            catalog.Registered.Select(engine => new AvailableEngine(engine, EngineVersion, engine.Executable)).ToArray());

    public Task<PreparedWork> PrepareAsync(ExecutionRequest request, CancellationToken cancellationToken)
    {
        // A submission without attachments has no folder until now.
        Directory.CreateDirectory(request.Workspace.ExeDir);
        return Task.FromResult(new PreparedWork(["mock", request.Engine.Name, request.Run.WorkflowUrl]));
    }

    public async Task<string> StartAsync(ExecutionRequest request, PreparedWork work, CancellationToken cancellationToken)
    {
        await RecordAsync("start", request, "");
        await Execution.SafeFiles.WriteTextAsync(request.Workspace.StderrPath, $"mock: running {request.Run.WorkflowUrl} for {Delay(request)} ms\n", CancellationToken.None);
        return $"mock:{request.Run.RunId}:{request.Run.Attempt}";
    }

    public async Task<ExecutionResult> FollowAsync(ExecutionRequest request, string handle, CancellationToken stop)
    {
        var tags = request.Run.ReadTags();
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Delay(request)), clock, stop);
        }
        catch (OperationCanceledException)
        {
            await RecordAsync("end", request, "STOPPED");
            return new ExecutionResult(ExecutionOutcome.Stopped);
        }

        var failAttempts = tags.TryGetValue(FailAttemptsTag, out var fails) && int.TryParse(fails, CultureInfo.InvariantCulture, out var n) ? n : 0;
        var outcome = request.Run.Attempt <= failAttempts ? "SYSTEM_ERROR" : tags.GetValueOrDefault(OutcomeTag, "COMPLETE").ToUpperInvariant();
        await RecordAsync("end", request, outcome);
        var exitCode = tags.TryGetValue(ExitCodeTag, out var code) && int.TryParse(code, CultureInfo.InvariantCulture, out var parsed) ? parsed : 1;
        var outputs = new JsonObject { ["mock"] = true, ["workflow_url"] = request.Run.WorkflowUrl };
        await File.WriteAllTextAsync(request.Workspace.StdoutPath, outputs.ToJsonString(), CancellationToken.None);
        return outcome switch
        {
            "EXECUTOR_ERROR" => new ExecutionResult(ExecutionOutcome.Failed, exitCode, Message: $"mock: exited with code {exitCode} as tagged"),
            "SYSTEM_ERROR" => new ExecutionResult(ExecutionOutcome.SystemError, Message: $"mock: system error as tagged (attempt {request.Run.Attempt})"),
            "COMPLETE" => new ExecutionResult(ExecutionOutcome.Succeeded, 0, outputs),
            _ => new ExecutionResult(ExecutionOutcome.SystemError,
                Message: $"mock: unknown {OutcomeTag} '{outcome}'; use COMPLETE, EXECUTOR_ERROR or SYSTEM_ERROR"),
        };
    }

    private int Delay(ExecutionRequest request) =>
        request.Run.ReadTags().TryGetValue(DelayTag, out var text) && int.TryParse(text, CultureInfo.InvariantCulture, out var ms)
            ? Math.Max(0, ms)
            : options.Value.Mock.DelayMilliseconds;

    public IReadOnlyList<RunTask> ReadTasks(ExecutionRequest request) => [];

    /// <summary>
    /// One line per start and end, in a file per process (<c>ExecutionLog.&lt;pid&gt;</c>) so several executor processes
    /// never interleave their writes; within the process, one writer at a time.
    /// </summary>
    private async Task RecordAsync(string what, ExecutionRequest request, string outcome)
    {
        if (options.Value.Mock.ExecutionLog is not { Length: > 0 } path)
        {
            return;
        }

        var line = $"{what} {request.Run.RunId} {request.Run.Attempt} {identity.Id} {clock.GetUtcNow().ToUnixTimeMilliseconds()} {outcome}\n";
        await _logLock.WaitAsync(CancellationToken.None);
        try
        {
            await File.AppendAllTextAsync($"{path}.{identity.Pid}", line, CancellationToken.None);
        }
        finally
        {
            _logLock.Release();
        }
    }
}
