using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Wes.Cli.Api;

namespace Wes.Cli.Commands;

/// <summary>
/// `wes logs`: the run's stdout and stderr and its tasks' logs, fetched from the links in the RunLog and the task list
/// (relative links resolve against the API base). --follow prints new output as it appears until the run ends.
/// </summary>
public static class LogsCommand
{
    private static readonly string[] Both = ["stdout", "stderr"];

    public static Command Create(CliContext cli)
    {
        var runId = RunCommands.RunIdArgument();
        var task = new Option<string?>("--task") { Description = "The logs of this task instead of the run's" };
        var stream = new Option<string?>("--stream") { Description = "Only this stream, without headings" };
        stream.AcceptOnlyFromAmong(Both);
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new output until the run ends (stdout here, stderr to stderr)" };
        var command = new Command("logs", "Print a run's stdout/stderr and its tasks' logs (--json: the log entries with their links)")
        {
            runId, task, stream, follow, cli.Interval,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(follow) && result.GetValue(cli.Json))
            {
                result.AddError("--follow prints the logs' text and cannot be combined with --json.");
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            using var client = cli.CreateClient(parse);
            var id = parse.GetValue(runId)!;
            if (parse.GetValue(cli.Json))
            {
                await cli.Output.WriteLineAsync((await EntriesJsonAsync(client, id, ct)).ToJsonString(WesJson.Options));
                return ExitCodes.Success;
            }

            var streams = parse.GetValue(stream) is { } one ? [one] : Both;
            var source = new LogSource(client, id, parse.GetValue(task));
            if (parse.GetValue(follow))
            {
                return await FollowAsync(cli, client, source, streams, cli.PollInterval(parse), ct);
            }

            var (links, _) = await source.ReadAsync(ct);
            var headings = parse.GetValue(stream) is null;
            foreach (var name in streams)
            {
                await PrintAsync(cli, client, headings ? $"{Label(source.TaskId)} {name}" : null, links[name], ct);
            }

            if (source.TaskId is null && headings)
            {
                foreach (var entry in await source.TasksAsync(ct))
                {
                    await PrintAsync(cli, client, $"task {entry.Id ?? entry.Name} stdout", entry.Stdout, ct);
                    await PrintAsync(cli, client, $"task {entry.Id ?? entry.Name} stderr", entry.Stderr, ct);
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The server's run_log and every page of its task logs (or a WES 1.0 RunLog's task_logs), as one object.</summary>
    private static async Task<JsonObject> EntriesJsonAsync(WesApiClient client, string runId, CancellationToken cancellationToken)
    {
        var log = JsonNode.Parse((await client.GetRunLogAsync(runId, cancellationToken)).Json) as JsonObject ?? [];
        var tasks = new JsonArray();
        try
        {
            string? token = null;
            do
            {
                var page = await client.ListTasksAsync(runId, token, cancellationToken);
                foreach (var node in JsonNode.Parse(page.Json)?["task_logs"] as JsonArray ?? [])
                {
                    tasks.Add(node?.DeepClone());
                }

                token = Paging.Next(token, page.Value.NextPageToken);
            }
            while (token is not null);
        }
        catch (WesApiException ex) when (ex.StatusCode is 404 or 405 or 501)
        {
            tasks = log["task_logs"]?.DeepClone() as JsonArray ?? [];
        }

        return new JsonObject { ["run_id"] = runId, ["run_log"] = log["run_log"]?.DeepClone(), ["task_logs"] = tasks };
    }

    private static string Label(string? taskId) => taskId is null ? "run" : "task " + taskId;

    private static async Task PrintAsync(CliContext cli, WesApiClient client, string? heading, string? link, CancellationToken cancellationToken)
    {
        if (heading is not null)
        {
            await cli.Output.WriteLineAsync($"==> {heading} <==");
        }

        if (link is null)
        {
            await cli.Output.WriteLineAsync("(no log)");
            return;
        }

        if (client.Resolve(link) is not { } url)
        {
            await cli.Output.WriteLineAsync($"(at {link}, which is not an HTTP link)");
            return;
        }

        var text = Encoding.UTF8.GetString(await client.ReadFromAsync(url, 0, cancellationToken));
        await cli.Output.WriteAsync(text);
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            await cli.Output.WriteLineAsync();
        }
    }

    /// <summary>Reads each stream from where the last read stopped; one last read after the run ended catches its final lines.</summary>
    private static async Task<int> FollowAsync(
        CliContext cli, WesApiClient client, LogSource source, IReadOnlyList<string> streams, TimeSpan interval, CancellationToken cancellationToken)
    {
        var offsets = streams.ToDictionary(s => s, _ => 0L);
        // A decoder per stream keeps a character split across two reads whole.
        var decoders = streams.ToDictionary(s => s, _ => Encoding.UTF8.GetDecoder());
        while (true)
        {
            var (links, state) = await source.ReadAsync(cancellationToken);
            var ended = ExitCodes.IsTerminal(state);
            foreach (var name in streams)
            {
                if (client.Resolve(links[name]) is not { } url)
                {
                    continue;
                }

                var bytes = await client.ReadFromAsync(url, offsets[name], cancellationToken);
                offsets[name] += bytes.Length;
                var chars = new char[decoders[name].GetCharCount(bytes, flush: ended)];
                decoders[name].GetChars(bytes, chars, flush: ended);
                var writer = name == "stdout" ? cli.Output : cli.Error;
                await writer.WriteAsync(chars);
                await writer.FlushAsync(cancellationToken);
            }

            if (ended)
            {
                return ExitCodes.ForFinalState(state);
            }

            await Task.Delay(interval, cancellationToken);
        }
    }

    /// <summary>Where a run's (or one task's) logs are, and the run's state, as the server tells it now.</summary>
    private sealed class LogSource(WesApiClient client, string runId, string? taskId)
    {
        private RunLog? _log;

        public string? TaskId => taskId;

        public async Task<(Dictionary<string, string?> Links, string? State)> ReadAsync(CancellationToken cancellationToken)
        {
            _log = (await client.GetRunLogAsync(runId, cancellationToken)).Value;
            if (taskId is null)
            {
                return (new() { ["stdout"] = _log.RunLogEntry?.Stdout, ["stderr"] = _log.RunLogEntry?.Stderr }, _log.State);
            }

            var task = (await TasksAsync(cancellationToken)).FirstOrDefault(t => t.Id == taskId || (t.Id is null && t.Name == taskId))
                ?? throw new CliUsageException($"Run '{runId}' has no task '{taskId}'.");
            return (new() { ["stdout"] = task.Stdout, ["stderr"] = task.Stderr }, _log.State);
        }

        /// <summary>The tasks endpoint (WES 1.1), else the task_logs a WES 1.0 RunLog carries.</summary>
        public async Task<IReadOnlyList<TaskLogEntry>> TasksAsync(CancellationToken cancellationToken)
        {
            try
            {
                return await Paging.AllTasksAsync(client, runId, cancellationToken);
            }
            catch (WesApiException ex) when (ex.StatusCode is 404 or 405 or 501 && _log is not null)
            {
                return _log.TaskLogs ?? [];
            }
        }
    }
}
