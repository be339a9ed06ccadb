using System.Security.Cryptography;

namespace Wes.Execution;

/// <summary>
/// Who holds a run's lease: "host:pid:nonce". The nonce tells this process apart from an earlier one with the
/// same pid (a restarted container is always pid 1), so a restart can reclaim its predecessor's runs at once.
/// </summary>
public sealed class ExecutorIdentity
{
    public ExecutorIdentity()
    {
        Host = Environment.MachineName;
        Pid = Environment.ProcessId;
        Id = $"{Host}:{Pid}:{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
    }

    public string Id { get; }
    public string Host { get; }
    public int Pid { get; }

    /// <summary>True when the owner ran on this host and is certainly gone, so its lease need not be waited out.</summary>
    public bool IsDeadLocalOwner(string owner)
    {
        var parts = owner.Split(':');
        if (parts.Length != 3 || parts[0] != Host || owner == Id || !int.TryParse(parts[1], out var pid))
        {
            return false;
        }

        // A killed process that its parent has not reaped yet is a zombie: gone, though /proc still lists it.
        return pid == Pid || ProcessTree.HasEnded(pid);
    }
}
