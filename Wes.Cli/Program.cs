namespace Wes.Cli;

internal static class Program
{
    private static Task<int> Main(string[] args) =>
        CliApp.RunAsync(args, new CliContext(Console.Out, Console.Error, isTerminal: !Console.IsOutputRedirected), CancellationToken.None);
}
