using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Wes.Execution;

/// <summary>What kind of file an opened descriptor refers to, read from the descriptor itself.</summary>
public sealed record FileFacts(bool IsRegular, long Size, int LinkCount);

/// <summary>
/// Opens files a workflow could have planted or replaced (logs, outputs, event files) without trusting them: the last
/// path component is never followed if it is a link, opening never blocks (a FIFO or device would block open() and
/// pin a thread for good), and anything but a regular file is refused after the open, on the open descriptor, so the
/// check cannot be raced by swapping the file.
/// </summary>
public static partial class RegularFile
{
    private const int AtEmptyPath = 0x1000;
    private const int StatxBasicStats = 0x07ff;
    private const int FileTypeMask = 0xF000;
    private const int RegularType = 0x8000;
    private const int NonBlocking = 0x800;
    private const int CloseOnExec = 0x80000;

    // O_NOFOLLOW differs between the x86 and the generic (arm64) Linux ABIs.
    internal static readonly int NoFollow = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 0x20000 : 0x8000;

    /// <summary>
    /// An open read-only stream on <paramref name="path"/> if it is a regular file reached without a final link, else
    /// null (missing, a link, a FIFO, a socket, a device or a folder). <paramref name="facts"/> describes what was opened.
    /// </summary>
    public static FileStream? TryOpen(string path, out FileFacts? facts)
    {
        facts = null;
        if (!OperatingSystem.IsLinux())
        {
            return File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete) : null;
        }

        if (path.Contains('\0'))
        {
            return null;
        }

        var fd = Open(path, NoFollow | NonBlocking | CloseOnExec);
        if (fd < 0)
        {
            return null;
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        facts = Describe(handle);
        if (facts is not { IsRegular: true })
        {
            handle.Dispose();
            facts = null;
            return null;
        }

        // Reading a regular file never blocks, so the non-blocking flag is harmless from here on.
        return new FileStream(handle, FileAccess.Read, bufferSize: 0);
    }

    /// <summary>The facts of an open descriptor (fstat through statx, whose layout is the same on every architecture).</summary>
    public static unsafe FileFacts? Describe(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var buffer = stackalloc byte[256];
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, StatxBasicStats, buffer) != 0)
            {
                return null;
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        // struct statx: stx_nlink (u32) at 16, stx_mode (u16) at 28, stx_size (u64) at 40.
        var mode = *(ushort*)(buffer + 28);
        return new FileFacts((mode & FileTypeMask) == RegularType, *(long*)(buffer + 40), (int)*(uint*)(buffer + 16));
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, int mask, byte* buffer);
}
