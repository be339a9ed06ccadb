using System.Globalization;
using System.Runtime.InteropServices;

namespace Wes.Execution.Sandbox;

/// <summary>The account engines run as when the server runs as root: a uid, its primary group and, if it has one, its name.</summary>
public sealed partial record EngineUser(uint Uid, uint Gid, string? Name)
{
    /// <summary>A user name from the account database, or a number (which need not have an entry), or null if neither.</summary>
    public static EngineUser? Resolve(string nameOrUid)
    {
        var text = nameOrUid.Trim();
        if (uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
        {
            // A uid without an account gets the group of the same number, as container images usually do.
            return FromPasswd(GetPasswordEntryById(uid)) ?? new EngineUser(uid, uid, null);
        }

        return text.Length == 0 ? null : FromPasswd(GetPasswordEntryByName(text));
    }

    /// <summary>Whether the server process runs as root, the only case in which it can start engines as another user.</summary>
    public static bool ServerIsRoot => OperatingSystem.IsLinux() && GetEffectiveUserId() == 0;

    /// <summary>Changes the owner of one entry without following it, so a link planted in a run changes nothing it points at.</summary>
    public void Own(string path)
    {
        if (ChangeOwnerOfLink(path, Uid, Gid) != 0)
        {
            throw new IOException($"Could not give {path} to uid {Uid}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>
    /// Whether this user may pass through a folder, judged by its owner, group and mode (supplementary groups are not
    /// counted, so a folder reachable only through one is reported as unreachable).
    /// </summary>
    public bool CanTraverse(string folder) => Stat(folder, followLinks: true) is { } status &&
        (status.Uid == Uid ? (status.Mode & 0x40) != 0 : status.Gid == Gid ? (status.Mode & 0x8) != 0 : (status.Mode & 0x1) != 0);

    /// <summary>The number of names a file has (0 if it cannot be read), without following a link.</summary>
    public static uint LinkCount(string path) => Stat(path, followLinks: false)?.Links ?? 0;

    public override string ToString() => Name is null ? $"uid {Uid}" : $"{Name} (uid {Uid})";

    /// <summary>Owner, group, mode and link count of a file, or null if it cannot be read.</summary>
    internal static PathFacts? Stat(string path, bool followLinks)
    {
        // statx has one layout on every architecture, unlike struct stat:
        // mask u32 @0, blksize u32 @4, attributes u64 @8, nlink u32 @16, uid u32 @20, gid u32 @24, mode u16 @28.
        var buffer = new byte[256];
        return StatX(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxBasicStats, buffer) != 0
            ? null
            : new PathFacts(BitConverter.ToUInt32(buffer, 20), BitConverter.ToUInt32(buffer, 24), BitConverter.ToUInt16(buffer, 28), BitConverter.ToUInt32(buffer, 16));
    }

    internal sealed record PathFacts(uint Uid, uint Gid, uint Mode, uint Links);

    private static EngineUser? FromPasswd(IntPtr entry)
    {
        if (entry == IntPtr.Zero)
        {
            return null;
        }

        var passwd = Marshal.PtrToStructure<Passwd>(entry);
        return new EngineUser(passwd.Uid, passwd.Gid, Marshal.PtrToStringUTF8(passwd.Name));
    }

    /// <summary>The start of glibc's struct passwd, which is all that is read.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public IntPtr Name;
        public IntPtr Password;
        public uint Uid;
        public uint Gid;
    }

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetPasswordEntryByName(string name);

    [LibraryImport("libc", EntryPoint = "getpwuid")]
    private static partial IntPtr GetPasswordEntryById(uint uid);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int ChangeOwnerOfLink(string path, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatX(int directoryFd, string path, int flags, uint mask, [Out] byte[] buffer);
}
