using System.Diagnostics;
using Wes.Cli;
using Wes.Tests.Support;

namespace Wes.Tests.Cli;

/// <summary>What one `wes` invocation printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>Runs the `wes` client in this process (through its entry method) or as a child process (`dotnet Wes.Cli.dll`).</summary>
public static class CliHarness
{
    public static async Task<CliResult> RunAsync(HttpMessageHandler? handler, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(args, new CliContext(output, error, isTerminal: false, handler), CancellationToken.None);
        return new CliResult(exit, output.ToString(), error.ToString());
    }

    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(null, args);

    public static async Task<CliResult> RunProcessAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(Examples.Root)!,
        };
        start.ArgumentList.Add(CliDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await output, await error);
    }

    /// <summary>The client's own build beside the tests' (Wes.Cli/bin/...), else the copy in the test output.</summary>
    private static string CliDll
    {
        get
        {
            var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var own = Path.Combine(Path.GetDirectoryName(Examples.Root)!, "Wes.Cli", "bin", testDir.Parent!.Name, testDir.Name, "Wes.Cli.dll");
            return File.Exists(own) ? own : Path.Combine(AppContext.BaseDirectory, "Wes.Cli.dll");
        }
    }

    public static string Example(string relative) => Path.Combine(Examples.Root, relative);
}
