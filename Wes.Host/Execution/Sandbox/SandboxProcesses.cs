using System.Globalization;
using System.Runtime.InteropServices;

namespace Wes.Execution.Sandbox;

/// <summary>
/// The processes of a sandbox started from <see cref="EngineSandbox.Wrap"/>'s argument list, as the host sees them:
/// the started process (setsid) → bwrap → bwrap's init (pid 1 inside) → the engine. Signalling the started process
/// or bwrap ends the whole sandbox at once (each dies with its parent, and the namespace with its init); a graceful
/// stop signals the engine's process group instead, and lets the engine end its own jobs.
/// </summary>
public static class SandboxProcesses
{
    /// <summary>The engine's host pid, or null while the sandbox is still starting or once it has ended.</summary>
    public static int? EngineOf(int startedPid)
    {
        int? pid = startedPid;
        // setsid's child is bwrap, whose child is its init, whose first child is the engine.
        for (var step = 0; step < 3 && pid is not null; step++)
        {
            pid = FirstChild(pid.Value);
        }

        return pid;
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to the engine inside the sandbox and to its process group, which it leads (bwrap
    /// starts it in a session of its own). False if there is no engine to signal.
    /// </summary>
    public static bool SignalEngine(int startedPid, int signal)
    {
        if (EngineOf(startedPid) is not { } engine || engine <= 1)
        {
            return false;
        }

        // Never a negative number that is not this engine's own group: kill(-1) would reach every process.
        var target = ProcessTree.ProcessGroupOf(engine) == engine ? -engine : engine;
        return ProcessTree.SendSignal(target, signal) == 0;
    }

    private static int? FirstChild(int pid)
    {
        try
        {
            var children = File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return children.Length > 0 ? int.Parse(children[0], CultureInfo.InvariantCulture) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
