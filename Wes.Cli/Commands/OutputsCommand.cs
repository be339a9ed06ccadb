using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Wes.Cli.Api;

namespace Wes.Cli.Commands;

/// <summary>
/// `wes outputs`: a run's output files from this server's listing (GET /runs/{id}/outputs), or, on servers without
/// it, the File objects of the RunLog's outputs. --download fetches them all into a folder, keeping subfolders.
/// </summary>
public static class OutputsCommand
{
    public static Command Create(CliContext cli)
    {
        var runId = RunCommands.RunIdArgument();
        var download = new Option<string?>("--download") { Description = "Fetch every output file into this folder, keeping subfolders" };
        var command = new Command("outputs", "List a run's output files, or download them") { runId, download };
        command.SetAction(async (parse, ct) =>
        {
            using var client = cli.CreateClient(parse);
            var id = parse.GetValue(runId)!;
            var (files, json) = await ListAsync(client, id, ct);
            if (parse.GetValue(download) is { } folder)
            {
                await DownloadAsync(cli, client, files, folder, ct);
                return ExitCodes.Success;
            }

            if (parse.GetValue(cli.Json))
            {
                await cli.Output.WriteLineAsync(json.ToJsonString(WesJson.Options));
                return ExitCodes.Success;
            }

            cli.WriteTable(["PATH", "SIZE", "URL"], files.Select(f => (IReadOnlyList<string?>)
                [f.Path, f.Size?.ToString(CultureInfo.InvariantCulture), client.Resolve(f.Url)?.ToString() ?? f.Url]));
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<(List<OutputFile> Files, JsonNode Json)> ListAsync(WesApiClient client, string runId, CancellationToken cancellationToken)
    {
        var files = new List<OutputFile>();
        var nodes = new JsonArray();
        string? token = null;
        do
        {
            if (await client.ListOutputsAsync(runId, token, cancellationToken) is not { } page)
            {
                return await FromRunLogAsync(client, runId, cancellationToken);
            }

            files.AddRange(page.Value.Files ?? []);
            foreach (var node in JsonNode.Parse(page.Json)?["files"] as JsonArray ?? [])
            {
                nodes.Add(node?.DeepClone());
            }

            token = Paging.Next(token, page.Value.NextPageToken);
        }
        while (token is not null);
        return (files, new JsonObject { ["run_id"] = runId, ["files"] = nodes, ["next_page_token"] = "" });
    }

    /// <summary>Every File object (with a location) in the RunLog's outputs, named by its basename.</summary>
    private static async Task<(List<OutputFile>, JsonNode)> FromRunLogAsync(WesApiClient client, string runId, CancellationToken cancellationToken)
    {
        var outputs = (await client.GetRunLogAsync(runId, cancellationToken)).Value.Outputs ?? [];
        var files = new List<OutputFile>();
        void Walk(JsonNode? node)
        {
            if (node is JsonObject obj)
            {
                if (Text(obj["class"]) == "File" && (Text(obj["location"]) ?? Text(obj["path"])) is { } location)
                {
                    var name = Text(obj["basename"]) ?? Path.GetFileName(Uri.TryCreate(location, UriKind.Absolute, out var uri) ? uri.AbsolutePath : location);
                    files.Add(new OutputFile(name, obj["size"] is JsonValue size && size.TryGetValue<long>(out var bytes) ? bytes : null, null, location));
                }

                foreach (var child in obj)
                {
                    Walk(child.Value);
                }
            }
            else if (node is JsonArray array)
            {
                foreach (var item in array)
                {
                    Walk(item);
                }
            }
        }

        Walk(outputs);
        return (files, outputs);
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static async Task DownloadAsync(CliContext cli, WesApiClient client, List<OutputFile> files, string folder, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(folder);
        // Every target is checked before anything is written: one bad path refuses the whole download.
        var targets = files.Select(f => (File: f, Target: Target(root, f.Path), Url: client.Resolve(f.Url))).ToList();
        foreach (var (file, target, url) in targets)
        {
            if (url is null)
            {
                await cli.Error.WriteLineAsync($"wes: skipped {file.Path}: {file.Url ?? "no link"} is not an HTTP link");
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await client.DownloadAsync(url, target, cancellationToken);
            await cli.Output.WriteLineAsync(target);
        }
    }

    /// <summary>The local path for an output's relative path, refused if it is absolute or would leave the folder.</summary>
    public static string Target(string root, string? relative)
    {
        if (string.IsNullOrWhiteSpace(relative) || relative.Contains('\0', StringComparison.Ordinal) || Path.IsPathRooted(relative) ||
            relative.Split('/', '\\').Any(segment => segment == ".."))
        {
            throw new WesApiException($"Refused output path '{relative}': it is not a plain relative path inside {root}.");
        }

        var target = Path.GetFullPath(Path.Combine(root, relative));
        if (!target.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new WesApiException($"Refused output path '{relative}': it would leave {root}.");
        }

        return target;
    }
}
