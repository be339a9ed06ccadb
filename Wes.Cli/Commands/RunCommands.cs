using System.CommandLine;

namespace Wes.Cli.Commands;

/// <summary>The verbs about one run that need no more than its id: status, get, cancel, wait.</summary>
public static class RunCommands
{
    public static Argument<string> RunIdArgument() => new("RUN_ID") { Description = "The run's id" };

    public static Command Status(CliContext cli)
    {
        var runId = RunIdArgument();
        var command = new Command("status", "Show a run's state") { runId };
        command.SetAction(async (parse, ct) =>
        {
            using var client = cli.CreateClient(parse);
            var (status, json) = await client.GetStatusAsync(parse.GetValue(runId)!, ct);
            await cli.Output.WriteLineAsync(parse.GetValue(cli.Json) ? json : $"{status.RunId ?? parse.GetValue(runId)} {status.State ?? "UNKNOWN"}");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Get(CliContext cli)
    {
        var runId = RunIdArgument();
        var command = new Command("get", "Show a run's log: request, state, times, exit code, outputs") { runId };
        command.SetAction(async (parse, ct) =>
        {
            using var client = cli.CreateClient(parse);
            var (log, json) = await client.GetRunLogAsync(parse.GetValue(runId)!, ct);
            if (parse.GetValue(cli.Json))
            {
                await cli.Output.WriteLineAsync(json);
                return ExitCodes.Success;
            }

            var o = cli.Output;
            var entry = log.RunLogEntry;
            await o.WriteLineAsync($"Run:        {log.RunId ?? parse.GetValue(runId)}");
            await o.WriteLineAsync($"State:      {log.State ?? "UNKNOWN"}");
            await o.WriteLineAsync($"Workflow:   {log.Request?["workflow_url"]} ({log.Request?["workflow_type"]} {log.Request?["workflow_type_version"]})");
            await o.WriteLineAsync($"Started:    {entry?.StartTime ?? "-"}");
            await o.WriteLineAsync($"Ended:      {entry?.EndTime ?? "-"}");
            await o.WriteLineAsync($"Exit code:  {entry?.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}");
            if (entry?.Cmd is { Count: > 0 } cmd)
            {
                await o.WriteLineAsync($"Command:    {string.Join(' ', cmd)}");
            }

            await o.WriteLineAsync($"Stdout:     {client.Resolve(entry?.Stdout)?.ToString() ?? entry?.Stdout ?? "-"}");
            await o.WriteLineAsync($"Stderr:     {client.Resolve(entry?.Stderr)?.ToString() ?? entry?.Stderr ?? "-"}");
            foreach (var line in entry?.SystemLogs ?? [])
            {
                await o.WriteLineAsync($"System log: {line}");
            }

            await o.WriteLineAsync("Outputs:");
            await o.WriteLineAsync(log.Outputs?.ToJsonString(Api.WesJson.Options) ?? "{}");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Cancel(CliContext cli)
    {
        var runId = RunIdArgument();
        var command = new Command("cancel", "Ask the server to cancel a run") { runId };
        command.SetAction(async (parse, ct) =>
        {
            using var client = cli.CreateClient(parse);
            var (cancelled, json) = await client.CancelAsync(parse.GetValue(runId)!, ct);
            await cli.Output.WriteLineAsync(parse.GetValue(cli.Json) ? json : $"{cancelled.RunId ?? parse.GetValue(runId)} cancel requested");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Wait(CliContext cli)
    {
        var runId = RunIdArgument();
        var command = new Command("wait", "Wait until a run ends; exit 1 if it did not complete") { runId, cli.Interval };
        command.SetAction(async (parse, ct) =>
        {
            using var client = cli.CreateClient(parse);
            var watcher = new RunWatcher(cli, client, cli.PollInterval(parse), parse.GetValue(cli.Json));
            return ExitCodes.ForFinalState(await watcher.WaitAsync(parse.GetValue(runId)!, ct));
        });
        return command;
    }
}
