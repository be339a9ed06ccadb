using System.CommandLine;
using Wes.Cli.Commands;

namespace Wes.Cli;

/// <summary>The `wes` command line: parses, runs one verb, and turns every failure into an exit code and one line.</summary>
public static class CliApp
{
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        RunAsync(args, new CliContext(output, error, isTerminal: false), cancellationToken);

    public static async Task<int> RunAsync(string[] args, CliContext cli, CancellationToken cancellationToken)
    {
        var root = new RootCommand("Client for GA4GH Workflow Execution Service (WES) servers.")
        {
            cli.Url, cli.Token, cli.Json,
            InfoCommand.Create(cli),
            SubmitCommand.Create(cli),
            RunCommands.Status(cli),
            RunCommands.Get(cli),
            RunCommands.Cancel(cli),
            RunCommands.Wait(cli),
            ListCommand.Create(cli),
            LogsCommand.Create(cli),
            OutputsCommand.Create(cli),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            await cli.Error.WriteLineAsync($"wes: {OneLine(string.Join("; ", parse.Errors.Select(e => e.Message)))} (see 'wes --help')");
            return ExitCodes.Usage;
        }

        try
        {
            var configuration = new InvocationConfiguration { Output = cli.Output, Error = cli.Error, EnableDefaultExceptionHandler = false };
            return await parse.InvokeAsync(configuration, cancellationToken);
        }
        catch (Exception ex)
        {
            // The top of the program: whatever went wrong is one line on stderr, never a stack trace.
            var (code, message) = ExitCodes.ForException(ex);
            await cli.Error.WriteLineAsync("wes: " + OneLine(message));
            return code;
        }
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
