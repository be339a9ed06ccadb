using System.CommandLine;
using System.Text.Json.Nodes;
using Wes.Cli.Api;
using Wes.Cli.Submission;

namespace Wes.Cli.Commands;

/// <summary>
/// `wes list`: runs newest first, across every page. State and tags are filtered here, since WES has no such query
/// parameters; --limit stops the walk once enough runs matched.
/// </summary>
public static class ListCommand
{
    public static Command Create(CliContext cli)
    {
        var state = new Option<string?>("--state") { Description = "Only runs in this state (e.g. RUNNING, COMPLETE)" };
        var tags = new Option<string[]>("--tag") { Description = "Only runs with this tag key=value (repeat to require several)" };
        var limit = new Option<int?>("--limit") { Description = "Show at most this many runs" };
        var pageSize = new Option<int?>("--page-size") { Description = "Runs to ask for per request (the server may send fewer)" };
        limit.Validators.Add(r => { if (r.GetValue(limit) is < 1) { r.AddError("--limit must be at least 1."); } });
        pageSize.Validators.Add(r => { if (r.GetValue(pageSize) is < 1) { r.AddError("--page-size must be at least 1."); } });
        var command = new Command("list", "List runs (all pages)") { state, tags, limit, pageSize };
        command.SetAction(async (parse, ct) =>
        {
            var wanted = KeyValues.Parse(parse.GetValue(tags) ?? [], "--tag").ToList();
            var wantedState = parse.GetValue(state);
            bool Matches(RunSummary run) =>
                (wantedState is null || string.Equals(run.State, wantedState, StringComparison.OrdinalIgnoreCase)) &&
                wanted.All(t => run.Tags?.GetValueOrDefault(t.Key) == t.Value);

            using var client = cli.CreateClient(parse);
            var max = parse.GetValue(limit) ?? int.MaxValue;
            var found = new List<(RunSummary Run, JsonNode? Json)>();
            string? token = null;
            do
            {
                var (page, json) = await client.ListRunsAsync(token, parse.GetValue(pageSize), ct);
                var nodes = JsonNode.Parse(json)?["runs"] as JsonArray;
                var runs = page.Runs ?? [];
                found.AddRange(runs.Select((run, i) => (run, nodes?[i])).Where(r => Matches(r.run)).Take(max - found.Count));
                token = Paging.Next(token, page.NextPageToken);
            }
            while (token is not null && found.Count < max);

            if (parse.GetValue(cli.Json))
            {
                var body = new JsonObject { ["runs"] = new JsonArray(found.Select(f => f.Json?.DeepClone()).ToArray()), ["next_page_token"] = token ?? "" };
                await cli.Output.WriteLineAsync(body.ToJsonString(WesJson.Options));
                return ExitCodes.Success;
            }

            cli.WriteTable(["RUN ID", "STATE", "START", "END", "TAGS"], found.Select(f => (IReadOnlyList<string?>)
            [
                f.Run.RunId, f.Run.State, f.Run.StartTime, f.Run.EndTime,
                string.Join(", ", (f.Run.Tags ?? []).Select(t => $"{t.Key}={t.Value}")),
            ]));
            return ExitCodes.Success;
        });
        return command;
    }
}
