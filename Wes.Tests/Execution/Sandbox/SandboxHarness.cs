using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Execution.Sandbox;
using Wes.Tests.Support;

namespace Wes.Tests.Execution.Sandbox;

[CollectionDefinition(Name)]
public sealed class SandboxCollection
{
    public const string Name = "Engine sandbox";
}

/// <summary>
/// A data directory as the server lays it out (a database file, another run's folder, this run's folder) and an input
/// root outside it, with a sandbox over them; runs commands through <see cref="EngineSandbox.Wrap"/> as real processes.
/// </summary>
public sealed class SandboxHarness : IDisposable
{
    private readonly string _top = TempDirectory.Create("wes-sandbox");

    public SandboxHarness(Action<SandboxOptions>? configure = null)
    {
        DataDir = Path.Combine(_top, "data");
        InputRoot = Path.Combine(_top, "inputs");
        Directory.CreateDirectory(Path.Combine(DataDir, "runs", "other-run", "outputs"));
        File.WriteAllText(DatabasePath, "SQLite format 3");
        File.WriteAllText(Path.Combine(DataDir, "runs", "other-run", "outputs", "result.txt"), "another user's result");
        Directory.CreateDirectory(InputRoot);
        File.WriteAllText(Path.Combine(InputRoot, "input.txt"), "input data");
        Workspace = new RunWorkspace(Path.Combine(DataDir, "runs"), "this-run");
        Directory.CreateDirectory(Workspace.ExeDir);
        File.WriteAllText(RootFilePath, "{}");
        var options = new WesOptions { DataDir = DataDir, AllowedFileRoots = InputRoot };
        configure?.Invoke(options.Sandbox);
        Sandbox = new EngineSandbox(Options.Create(options), new ConfigurationBuilder().Build(),
            new HostingEnvironment { ContentRootPath = AppContext.BaseDirectory }, TimeProvider.System);
    }

    public string DataDir { get; }
    public string DatabasePath => Path.Combine(DataDir, "wes.db");
    public string OtherRunDir => Path.Combine(DataDir, "runs", "other-run");
    public string InputRoot { get; }
    public RunWorkspace Workspace { get; }

    /// <summary>A file the run folder itself holds (not in a writable subfolder), to show the engine cannot replace it.</summary>
    public string RootFilePath => Path.Combine(Workspace.Root, "submitted.json");

    public EngineSandbox Sandbox { get; }

    public IReadOnlyList<string> Wrap(string executable, params string[] arguments) =>
        Sandbox.Wrap(executable, arguments, new SandboxContext(Workspace, executable, [InputRoot]));

    /// <summary>Prepares the run folder, then runs the wrapped command to its end: exit code, stdout and stderr.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string executable, params string[] arguments)
    {
        Sandbox.PrepareRunDirectory(Workspace);
        using var process = Start(Wrap(executable, arguments));
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A shell script run as the engine, in the run's exe folder.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> ShellAsync(string script) => RunAsync("/bin/sh", "-c", script);

    public static Process Start(IReadOnlyList<string> argv)
    {
        var startInfo = new ProcessStartInfo(argv[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in argv.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = Process.Start(startInfo)!;
        process.StandardInput.Close();
        return process;
    }

    public void Dispose() => TempDirectory.Delete(_top);
}
