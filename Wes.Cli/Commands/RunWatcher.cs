using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Wes.Cli.Api;

namespace Wes.Cli.Commands;

/// <summary>
/// Polls a run until it ends. On a terminal it shows a live line (state, elapsed time, tasks done); redirected, it
/// prints one timestamped line per state change; with --json it prints only the final status.
/// </summary>
public sealed class RunWatcher(CliContext cli, WesApiClient client, TimeSpan interval, bool json)
{
    /// <returns>The run's final state.</returns>
    public async Task<string> WaitAsync(string runId, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (json)
        {
            var final = await PollAsync(runId, _ => Task.CompletedTask, cancellationToken);
            await cli.Output.WriteLineAsync(final.Json);
            return final.Value.State!;
        }

        if (!cli.IsTerminal)
        {
            string? shown = null;
            var final = await PollAsync(runId, async status =>
            {
                if (status.State != shown)
                {
                    shown = status.State;
                    await cli.Output.WriteLineAsync($"{DateTimeOffset.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {shown}");
                }
            }, cancellationToken);
            return final.Value.State!;
        }

        var tasks = "";
        ApiResult<RunStatus>? last = null;
        await cli.Console.Status().StartAsync($"{runId} waiting", async context =>
        {
            last = await PollAsync(runId, async status =>
            {
                tasks = await TaskProgressAsync(runId, cancellationToken);
                context.Status(Markup.Escape($"{runId}  {status.State}  {Elapsed(clock)}  {tasks}"));
            }, cancellationToken);
        });
        await cli.Output.WriteLineAsync($"{runId} {last!.Value.State} after {Elapsed(clock)} {tasks}".TrimEnd());
        return last.Value.State!;
    }

    private async Task<ApiResult<RunStatus>> PollAsync(string runId, Func<RunStatus, Task> onStatus, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await client.GetStatusAsync(runId, cancellationToken);
            var status = result.Value with { State = result.Value.State ?? "UNKNOWN" };
            await onStatus(status);
            if (ExitCodes.IsTerminal(status.State))
            {
                return result with { Value = status };
            }

            await Task.Delay(interval, cancellationToken);
        }
    }

    /// <summary>"tasks 2/3 done", or nothing for a server without the tasks endpoint (WES 1.0).</summary>
    private async Task<string> TaskProgressAsync(string runId, CancellationToken cancellationToken)
    {
        try
        {
            var tasks = await Paging.AllTasksAsync(client, runId, cancellationToken);
            var done = tasks.Count(t => t.EndTime is not null || t.ExitCode is not null);
            return tasks.Count == 0 ? "" : $"tasks {done}/{tasks.Count} done";
        }
        catch (WesApiException)
        {
            return "";
        }
    }

    private static string Elapsed(Stopwatch clock) => clock.Elapsed.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);
}
