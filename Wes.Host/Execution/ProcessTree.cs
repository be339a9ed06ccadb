using System.Globalization;
using System.Runtime.InteropServices;

namespace Wes.Execution;

/// <summary>
/// The processes descending from an engine, wherever their process group. Some engines (Toil's single-machine batch
/// system) start each job in a session of its own, which signalling the engine's group does not reach; the executor
/// takes this snapshot before it stops an engine and kills what is left of it afterwards.
/// </summary>
public static partial class ProcessTree
{
    private const int SigKill = 9;

    /// <summary>A process and its start time (clock ticks after boot), which tells it apart from a later one with its pid.</summary>
    public sealed record Member(int Pid, long StartTime);

    public static IReadOnlyList<Member> Descendants(int rootPid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return [];
        }

        var children = new Dictionary<int, List<Member>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && ReadStat(pid) is { } stat)
            {
                (children.TryGetValue(stat.Parent, out var list) ? list : children[stat.Parent] = []).Add(new Member(pid, stat.StartTime));
            }
        }

        var found = new List<Member>();
        var pending = new Queue<int>([rootPid]);
        while (pending.TryDequeue(out var parent))
        {
            foreach (var child in children.GetValueOrDefault(parent) ?? [])
            {
                found.Add(child);
                pending.Enqueue(child.Pid);
            }
        }

        return found;
    }

    /// <summary>Sends <paramref name="signal"/> to every member still alive (same pid, same start time).</summary>
    public static void Signal(IReadOnlyList<Member> members, int signal)
    {
        foreach (var member in members.Where(m => ReadStat(m.Pid)?.StartTime == m.StartTime))
        {
            _ = SendSignal(member.Pid, signal);
        }
    }

    /// <summary>The start time of a process (clock ticks after boot), or null if there is none with that id.</summary>
    public static long? StartTimeOf(int pid) => ReadStat(pid)?.StartTime;

    /// <summary>The process group of a process, or null if there is none with that id.</summary>
    public static int? ProcessGroupOf(int pid) => ReadStat(pid)?.Group;

    /// <summary>True once the process is gone or a zombie (ended, not yet reaped by its parent).</summary>
    public static bool HasEnded(int pid) => ReadStat(pid) is not { State: not ('Z' or 'X') };

    /// <summary>kill(2): a negative <paramref name="pid"/> signals that process group. Answers 0 on success.</summary>
    public static int SendSignal(int pid, int signal) => Kill(pid, signal);

    /// <summary>SIGKILLs every member still alive (same pid, same start time) and whatever it has started since.</summary>
    public static void KillSurvivors(IReadOnlyList<Member> members)
    {
        var alive = members.Where(m => ReadStat(m.Pid)?.StartTime == m.StartTime).ToList();
        foreach (var member in alive.Concat(alive.SelectMany(m => Descendants(m.Pid))).Distinct())
        {
            _ = SendSignal(member.Pid, SigKill);
        }
    }

    private sealed record Stat(char State, int Parent, int Group, long StartTime);

    private static Stat? ReadStat(int pid)
    {
        try
        {
            // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' are fixed.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return new Stat(fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture), int.Parse(fields[2], CultureInfo.InvariantCulture),
                long.Parse(fields[19], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
