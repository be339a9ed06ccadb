using System.Diagnostics;

namespace Wes.Execution;

/// <summary>What a program printed before it exited, and its exit code.</summary>
public sealed record ProgramOutput(int ExitCode, string Output, string Error);

/// <summary>
/// Runs a short-lived program (a version query, a probe, a Slurm client command) with an argument list, never through
/// a shell: stdin closed, stdout and stderr read in full, within a time limit. A program past its limit or whose
/// caller gives up is killed with its children.
/// </summary>
public static class ProgramRun
{
    /// <param name="environment">Variables to set for the program; a null value removes the variable.</param>
    /// <exception cref="TimeoutException">The program did not exit within <paramref name="timeout"/>; it was killed.</exception>
    /// <exception cref="System.ComponentModel.Win32Exception">The program could not be started.</exception>
    public static async Task<ProgramOutput> RunAsync(
        string path, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment,
        CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        using var process = new Process { StartInfo = start };
        process.Start();
        process.StandardInput.Close();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        // Both streams are read at once, so a program that writes a lot to one cannot block on the other's full pipe.
        var output = process.StandardOutput.ReadToEndAsync(limit.Token);
        var error = process.StandardError.ReadToEndAsync(limit.Token);
        try
        {
            await process.WaitForExitAsync(limit.Token);
            return new ProgramOutput(process.ExitCode, await output, await error);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{Path.GetFileName(path)} did not exit within {timeout.TotalSeconds:0.#} s");
        }
    }
}
