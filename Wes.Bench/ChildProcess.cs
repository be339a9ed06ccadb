using System.ComponentModel;
using System.Diagnostics;

namespace Wes.Bench;

/// <summary>A finished child process: exit code, its output, and the wall time from start to exit.</summary>
internal sealed record ChildResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

/// <summary>Runs programs without a shell, arguments as a list, and kills the whole tree if the benchmark is aborted.</summary>
internal static class ChildProcess
{
    public static async Task<ChildResult> RunAsync(
        string fileName, IEnumerable<string> arguments, string? workingDirectory, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var started = Stopwatch.GetTimestamp();
        using var process = Process.Start(start) ?? throw new BenchException($"Could not start {fileName}.");
        // Both pipes are drained while the child runs, so a chatty child never blocks on a full pipe.
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        return new ChildResult(process.ExitCode, await stdout, await stderr, elapsed);
    }

    /// <summary>The trimmed stdout of a quick informational command, or null if it is missing or fails.</summary>
    public static async Task<string?> TryReadAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        try
        {
            var result = await RunAsync(fileName, arguments, null, cancellationToken);
            return result.ExitCode == 0 ? result.Stdout.Trim() : null;
        }
        catch (Win32Exception)
        {
            return null;
        }
    }

    /// <summary>
    /// SIGTERM, so the child runs its own shutdown; after <paramref name="grace"/> the whole tree is killed. Answers
    /// whether it stopped on its own.
    /// </summary>
    public static async Task<bool> TerminateAsync(Process process, TimeSpan grace)
    {
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                // kill(1) with the one positive pid: the child only, never a process group.
                using var kill = Process.Start(new ProcessStartInfo("kill")
                {
                    ArgumentList = { "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    UseShellExecute = false,
                });
                await (kill?.WaitForExitAsync(CancellationToken.None) ?? Task.CompletedTask);
            }

            using var limit = new CancellationTokenSource(grace);
            await process.WaitForExitAsync(limit.Token);
            return true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or Win32Exception)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            return false;
        }
    }
}
