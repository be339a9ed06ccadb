using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Wes.Execution;

/// <summary>The result of one engine process, recorded once, by the one code path that waited for it.</summary>
public sealed record ProcessOutcome(int ExitCode, bool Killed);

/// <summary>
/// Starts an engine as a child process without a shell, in a session and process group of its own, with stdout and
/// stderr copied to files. Stopping it signals the whole group, so every process the engine started goes too.
/// </summary>
public static partial class EngineProcess
{
    private const int SigTerm = 15;
    private const int SigKill = 9;
    private static readonly bool HasSetsid = File.Exists("/usr/bin/setsid") || File.Exists("/bin/setsid");

    public static async Task<ProcessOutcome> RunAsync(
        string executable, IReadOnlyList<string> arguments, string workingDirectory, string stdoutPath, string stderrPath,
        Func<int, Task> onStarted, TimeSpan killGrace, CancellationToken stop)
    {
        var startInfo = new ProcessStartInfo
        {
            // setsid execs the engine in place (same pid), making the pid also the process-group id.
            FileName = HasSetsid ? "setsid" : executable,
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (HasSetsid)
        {
            startInfo.ArgumentList.Add(executable);
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        process.Start();
        process.StandardInput.Close();
        await using var stdout = new FileStream(stdoutPath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 4096, true);
        await using var stderr = new FileStream(stderrPath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 4096, true);
        var copyOut = CopyFlushingAsync(process.StandardOutput.BaseStream, stdout);
        var copyErr = CopyFlushingAsync(process.StandardError.BaseStream, stderr);
        await onStarted(process.Id);

        var killed = false;
        try
        {
            await process.WaitForExitAsync(stop);
        }
        catch (OperationCanceledException)
        {
            killed = true;
            await TerminateAsync(process, killGrace);
        }

        // Whatever the engine left behind in its group (background jobs, stuck children) goes with it.
        KillGroup(process.Id, SigKill);
        await Task.WhenAll(copyOut, copyErr);
        return new ProcessOutcome(process.ExitCode, killed);
    }

    /// <summary>Kills an engine's process group and tree left by an earlier executor on this host (after a crash), if it still exists.</summary>
    public static void KillOrphanedGroup(int pid, string mustMention)
    {
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            if (cmdline.Contains(mustMention, StringComparison.Ordinal))
            {
                // The whole tree, not just the group: some engines start each job in a session of its own.
                var tree = ProcessTree.Descendants(pid);
                KillGroup(pid, SigKill);
                ProcessTree.KillSurvivors(tree);
            }
        }
        catch (IOException)
        {
            // The process is already gone.
        }
        catch (UnauthorizedAccessException)
        {
            // Not ours to kill.
        }
    }

    private static async Task TerminateAsync(Process process, TimeSpan killGrace)
    {
        // Taken while the engine still stands: its children in other sessions are then still known as its children.
        var tree = ProcessTree.Descendants(process.Id);
        try
        {
            await TerminateGroupAsync(process, killGrace);
        }
        finally
        {
            ProcessTree.KillSurvivors(tree);
        }
    }

    private static async Task TerminateGroupAsync(Process process, TimeSpan killGrace)
    {
        KillGroup(process.Id, SigTerm);
        using var grace = new CancellationTokenSource(killGrace);
        try
        {
            await process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            KillGroup(process.Id, SigKill);
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
            {
                // It exited between the check and the kill.
            }

            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static void KillGroup(int processGroup, int signal)
    {
        if (HasSetsid && OperatingSystem.IsLinux())
        {
            _ = SendSignal(-processGroup, signal);
        }
    }

    private static async Task CopyFlushingAsync(Stream source, FileStream destination)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await source.ReadAsync(buffer)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read));
            // Flushed per read so the log endpoints show progress while the engine runs.
            await destination.FlushAsync();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
