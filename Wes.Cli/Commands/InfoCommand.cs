using System.CommandLine;

namespace Wes.Cli.Commands;

/// <summary>`wes info`: the server's service-info, readable.</summary>
public static class InfoCommand
{
    public static Command Create(CliContext cli)
    {
        var command = new Command("info", "Show the server's service-info: workflow types, engines, run counts");
        command.SetAction(async (parse, ct) =>
        {
            using var client = cli.CreateClient(parse);
            var (info, json) = await client.GetServiceInfoAsync(ct);
            if (parse.GetValue(cli.Json))
            {
                await cli.Output.WriteLineAsync(json);
                return ExitCodes.Success;
            }

            var o = cli.Output;
            await o.WriteLineAsync($"{info.Name ?? info.Id ?? "WES service"} {info.Version}".TrimEnd());
            await o.WriteLineAsync($"URL:          {client.BaseUrl}");
            if (info.Description is { Length: > 0 } description)
            {
                await o.WriteLineAsync($"Description:  {description}");
            }

            if (info.Organization?.Name is { } organization)
            {
                await o.WriteLineAsync($"Organization: {organization}");
            }

            await o.WriteLineAsync($"WES versions: {Join(info.SupportedWesVersions)}");
            await o.WriteLineAsync($"Filesystems:  {Join(info.SupportedFilesystemProtocols)}");
            await o.WriteLineAsync("Workflow types:");
            foreach (var (type, versions) in info.WorkflowTypeVersions ?? [])
            {
                await o.WriteLineAsync($"  {type,-10} {Join(versions)}");
            }

            await o.WriteLineAsync("Engines:");
            foreach (var (engine, versions) in info.WorkflowEngineVersions ?? [])
            {
                await o.WriteLineAsync($"  {engine,-10} {Join(versions)}");
            }

            var counts = (info.SystemStateCounts ?? []).Where(c => c.Value > 0).Select(c => $"{c.Key} {c.Value}");
            await o.WriteLineAsync($"Runs:         {Join(counts)}");
            if (info.AuthInstructionsUrl is { Length: > 0 } auth)
            {
                await o.WriteLineAsync($"Auth:         {auth}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static string Join(IEnumerable<string>? values) => values?.Any() == true ? string.Join(", ", values) : "-";
}
