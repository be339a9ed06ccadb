using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Wes.Execution;

/// <summary>
/// Starts a program with posix_spawn in a session of its own, its stdin on /dev/null and its stdout and stderr
/// written by the kernel straight into files, and reaps it with waitpid. The server holds no pipe to the program, so
/// nothing the program (or anything it leaves behind) does with its output can keep the server waiting: the end of a
/// run is the exit of its process, not the end of its output.
/// </summary>
public static unsafe partial class NativeProcess
{
    private const short SpawnSetSignalDefaults = 0x04;
    private const short SpawnSetSignalMask = 0x08;
    private const short SpawnSetSession = 0x80;
    private const int ReadOnly = 0;
    private const int WriteOnly = 1;
    private const int Create = 0x40;
    private const int Exclusive = 0x80;
    private const int NoHang = 1;
    private const int NoSuchChild = 10;

    // glibc's opaque spawn structures are 80 and 336 bytes on 64-bit Linux, a signal set 128; room to spare.
    private const int OpaqueSize = 1024;

    /// <summary>
    /// Starts <paramref name="argv"/> (argv[0] an absolute path) in <paramref name="workingDirectory"/>. The log files are
    /// created afresh: a file or link already at either path is removed first and never written through.
    /// </summary>
    /// <returns>The process id, which is also its session and process-group id.</returns>
    public static int Start(IReadOnlyList<string> argv, string workingDirectory, string stdoutPath, string stderrPath)
    {
        File.Delete(stdoutPath);
        File.Delete(stderrPath);
        var actions = (byte*)NativeMemory.AllocZeroed(OpaqueSize);
        var attributes = (byte*)NativeMemory.AllocZeroed(OpaqueSize);
        var signals = (byte*)NativeMemory.AllocZeroed(OpaqueSize);
        var strings = new List<nint>();
        try
        {
            Check(FileActionsInit(actions), "posix_spawn_file_actions_init");
            Check(AttrInit(attributes), "posix_spawnattr_init");
            try
            {
                var logFlags = WriteOnly | Create | Exclusive | RegularFile.NoFollow;
                Check(AddOpen(actions, 0, "/dev/null", ReadOnly, 0), "open /dev/null");
                Check(AddOpen(actions, 1, stdoutPath, logFlags, 0x1A4), "open " + stdoutPath);
                Check(AddOpen(actions, 2, stderrPath, logFlags, 0x1A4), "open " + stderrPath);
                Check(AddChdir(actions, workingDirectory), "chdir " + workingDirectory);

                // The runtime ignores SIGPIPE and may block signals; the child starts with every signal at its default.
                SignalFill(signals);
                Check(AttrSetSignalDefaults(attributes, signals), "posix_spawnattr_setsigdefault");
                SignalEmpty(signals);
                Check(AttrSetSignalMask(attributes, signals), "posix_spawnattr_setsigmask");
                Check(AttrSetFlags(attributes, SpawnSetSession | SpawnSetSignalDefaults | SpawnSetSignalMask), "posix_spawnattr_setflags");

                var argvBlock = ToNativeArray(argv, strings);
                var environment = Environment.GetEnvironmentVariables();
                var envBlock = ToNativeArray(
                    environment.Keys.Cast<string>().Select(key => $"{key}={environment[key]}").ToList(), strings);
                int pid;
                var error = Spawn(&pid, argv[0], actions, attributes, argvBlock, envBlock);
                if (error != 0)
                {
                    throw new Win32Exception(error, $"Could not start {argv[0]}: {new Win32Exception(error).Message}");
                }

                return pid;
            }
            finally
            {
                _ = FileActionsDestroy(actions);
                _ = AttrDestroy(attributes);
            }
        }
        finally
        {
            strings.ForEach(Marshal.FreeHGlobal);
            NativeMemory.Free(actions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(signals);
        }
    }

    /// <summary>
    /// The exit code of a child of this process once it has ended (128 + signal if a signal ended it), or null while
    /// it runs. A process that is not this process's child (an earlier executor started it) reports -1 once it is gone.
    /// </summary>
    public static int? TryReap(int pid)
    {
        int status;
        var reaped = WaitPid(pid, &status, NoHang);
        if (reaped == pid)
        {
            var signal = status & 0x7F;
            return signal == 0 ? (status >> 8) & 0xFF : 128 + signal;
        }

        if (reaped < 0 && Marshal.GetLastPInvokeError() == NoSuchChild)
        {
            return Directory.Exists($"/proc/{pid}") ? null : -1;
        }

        return null;
    }

    private static nint* ToNativeArray(IReadOnlyList<string> values, List<nint> allocated)
    {
        var block = (nint*)Marshal.AllocHGlobal((values.Count + 1) * sizeof(nint));
        allocated.Add((nint)block);
        for (var i = 0; i < values.Count; i++)
        {
            block[i] = Marshal.StringToCoTaskMemUTF8(values[i]);
            allocated.Add(block[i]);
        }

        block[values.Count] = 0;
        return block;
    }

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new Win32Exception(error, $"{what}: {new Win32Exception(error).Message}");
        }
    }

    [LibraryImport("libc", EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Spawn(int* pid, string path, byte* fileActions, byte* attributes, nint* argv, nint* envp);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int FileActionsInit(byte* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int FileActionsDestroy(byte* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int AddOpen(byte* actions, int fd, string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int AddChdir(byte* actions, string path);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    private static partial int AttrInit(byte* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    private static partial int AttrDestroy(byte* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    private static partial int AttrSetFlags(byte* attributes, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int AttrSetSignalDefaults(byte* attributes, byte* signals);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int AttrSetSignalMask(byte* attributes, byte* signals);

    [LibraryImport("libc", EntryPoint = "sigfillset")]
    private static partial int SignalFill(byte* signals);

    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    private static partial int SignalEmpty(byte* signals);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, int* status, int options);
}
