using System.Globalization;

namespace Wes.Execution;

/// <summary>
/// A started engine as the run records it: its process id and the process's start time (clock ticks after boot),
/// which tells it apart from a later process that reuses the id. Written "local:&lt;pid&gt;:&lt;start&gt;".
/// </summary>
public sealed record LocalProcessHandle(int Pid, long StartTime)
{
    private const string Prefix = "local:";

    public override string ToString() => $"{Prefix}{Pid.ToString(CultureInfo.InvariantCulture)}:{StartTime.ToString(CultureInfo.InvariantCulture)}";

    public static LocalProcessHandle? Parse(string? text)
    {
        var parts = text is not null && text.StartsWith(Prefix, StringComparison.Ordinal) ? text[Prefix.Length..].Split(':') : [];
        return parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) &&
            long.TryParse(parts[1], CultureInfo.InvariantCulture, out var start)
            ? new LocalProcessHandle(pid, start)
            : null;
    }

    /// <summary>Whether this very process (same id, same start time) still exists and has not ended.</summary>
    public bool IsAlive() => ProcessTree.StartTimeOf(Pid) == StartTime && !ProcessTree.HasEnded(Pid);
}

/// <summary>
/// Starts an engine without a shell, in a session and process group of its own, with stdout and stderr written
/// straight into files; follows it by its exit; stops it with SIGTERM to the whole group and tree, then SIGKILL.
/// </summary>
public static class EngineProcess
{
    private const int SigTerm = 15;
    private const int SigKill = 9;
    private static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(200);

    public static LocalProcessHandle Start(IReadOnlyList<string> argv, string workingDirectory, string stdoutPath, string stderrPath)
    {
        var pid = NativeProcess.Start(argv, workingDirectory, stdoutPath, stderrPath);
        return new LocalProcessHandle(pid, ProcessTree.StartTimeOf(pid) ?? 0);
    }

    /// <summary>Waits for the process to exit and answers its exit code; throws when <paramref name="stop"/> fires first.</summary>
    public static async Task<int> WaitForExitAsync(LocalProcessHandle handle, CancellationToken stop)
    {
        var poll = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            if (NativeProcess.TryReap(handle.Pid) is { } code)
            {
                // Whatever the engine left behind in its group (background jobs, stuck children) goes with it.
                KillGroup(handle.Pid, SigKill);
                return code;
            }

            await Task.Delay(poll, stop);
            poll = TimeSpan.FromTicks(Math.Min(LongestPoll.Ticks, poll.Ticks * 2));
        }
    }

    /// <summary>SIGTERM to the engine's group and every process below it; SIGKILL after the grace. Answers the exit code.</summary>
    public static async Task<int> StopAsync(LocalProcessHandle handle, TimeSpan grace)
    {
        // Taken while the engine still stands: its children in other sessions are then still known as its children.
        var tree = ProcessTree.Descendants(handle.Pid);
        KillGroup(handle.Pid, SigTerm);
        ProcessTree.Signal(tree, SigTerm);
        using var graceOver = new CancellationTokenSource(grace);
        try
        {
            return await WaitForExitAsync(handle, graceOver.Token);
        }
        catch (OperationCanceledException)
        {
            KillGroup(handle.Pid, SigKill);
            return await WaitForExitAsync(handle, CancellationToken.None);
        }
        finally
        {
            ProcessTree.KillSurvivors(tree);
        }
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

    private static void KillGroup(int processGroup, int signal)
    {
        if (OperatingSystem.IsLinux() && processGroup > 1)
        {
            _ = ProcessTree.SendSignal(-processGroup, signal);
        }
    }
}
