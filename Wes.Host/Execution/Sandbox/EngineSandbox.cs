using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution.Engines;

namespace Wes.Execution.Sandbox;

/// <summary>
/// Confines each engine in bubblewrap: its own PID namespace, so every process a workflow starts dies with the engine;
/// the host read-only, with the data directory (database, other runs), the server's home and secret files hidden; the
/// run's working folders the only writable places besides a private /tmp; optionally no network; optionally another
/// user. The launcher execs <see cref="Wrap"/>'s argument list instead of the engine's own.
/// </summary>
public sealed class EngineSandbox
{
    /// <summary>Files no engine needs and none may read (the server itself may be root, and so its engines).</summary>
    private static readonly string[] SecretFiles = ["/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers"];

    private static readonly TimeSpan RecheckUnavailable = TimeSpan.FromMinutes(1);

    private readonly SandboxOptions _options;
    private readonly IReadOnlyList<string> _hiddenFolders;
    private readonly IReadOnlyList<string> _hiddenFiles;
    private readonly TimeProvider _clock;
    private readonly Lock _statusLock = new();
    private SandboxStatus? _status;
    private DateTimeOffset _probedAt;

    public EngineSandbox(IOptions<WesOptions> options, IConfiguration configuration, IHostEnvironment environment, TimeProvider clock)
    {
        _options = options.Value.Sandbox;
        DataDir = options.Value.ResolvedDataDir;
        _clock = clock;
        User = string.IsNullOrWhiteSpace(_options.User) ? null : EngineUser.Resolve(_options.User);
        var home = Environment.GetEnvironmentVariable("HOME");
        _hiddenFolders =
        [
            // /etc/ssl/private holds the private keys of the host's TLS certificates.
            DataDir, "/root", "/etc/ssl/private",
            .. string.IsNullOrEmpty(home) || home == "/" ? Array.Empty<string>() : [home],
            .. _options.HidePathList.Where(Directory.Exists),
        ];
        _hiddenFiles =
        [
            .. SecretFiles,
            .. SshHostKeys(),
            // The settings files may hold a connection string with its password.
            .. SettingsFiles(AppContext.BaseDirectory),
            .. SettingsFiles(environment.ContentRootPath),
            .. CertificateFiles(configuration),
            .. _options.HidePathList.Where(File.Exists),
        ];
    }

    /// <summary>Holds the database and every run: hidden from engines but for the run's own folder.</summary>
    public string DataDir { get; }

    /// <summary>The user engines run as, or null for the server's own user.</summary>
    public EngineUser? User { get; }

    public string BwrapPath => string.IsNullOrWhiteSpace(_options.BwrapPath) ? EngineCatalog.FindOnPath("bwrap") ?? "bwrap" : _options.BwrapPath;

    /// <summary>
    /// Whether engines run sandboxed. Probed once, by starting a sandbox with the configured options; an unavailable
    /// sandbox is probed again after a minute, so installing bubblewrap needs no restart.
    /// </summary>
    public SandboxStatus Status
    {
        get
        {
            lock (_statusLock)
            {
                if (_status is null || (_status.State == SandboxState.Unavailable && _clock.GetUtcNow() - _probedAt > RecheckUnavailable))
                {
                    _status = _options.IsOff ? SandboxStatus.DisabledByOperator : SandboxProbe.Run(this);
                    _probedAt = _clock.GetUtcNow();
                }

                return _status;
            }
        }
    }

    /// <summary>
    /// The argument list to exec instead of [executable, ..arguments]: `setsid --fork --wait`, setpriv (for another
    /// user), bwrap and its options, then the engine's own command. Unchanged when the operator turned the sandbox off.
    /// Call <see cref="PrepareRunDirectory"/> first: the folders bound into the sandbox must exist.
    /// </summary>
    /// <exception cref="SandboxUnavailableException">The sandbox is required and cannot be used.</exception>
    public IReadOnlyList<string> Wrap(string executable, IReadOnlyList<string> arguments, SandboxContext context)
    {
        var status = Status;
        return status.State switch
        {
            SandboxState.DisabledByOperator => [executable, .. arguments],
            SandboxState.Unavailable => throw new SandboxUnavailableException(UnavailableMessage(status)),
            _ => BuildCommand(executable, arguments, context),
        };
    }

    /// <summary>
    /// Readies a run's folder before its engine starts: creates the folders the engine may write and its home, replaces a
    /// link left at any of their places by an earlier attempt, and with an engine user, gives these folders to it.
    /// </summary>
    public void PrepareRunDirectory(RunWorkspace workspace)
    {
        if (_options.IsOff)
        {
            return;
        }

        foreach (var folder in SandboxMounts.WritableFolders(workspace).Append(HomeOf(workspace)))
        {
            if (new FileInfo(folder).LinkTarget is not null)
            {
                File.Delete(folder);
            }

            Directory.CreateDirectory(folder);
        }

        if (User is { } user)
        {
            RunFolderOwnership.GiveTo(user, workspace);
        }
    }

    /// <summary>What a run that cannot start is told: why, and the two ways out.</summary>
    public static string UnavailableMessage(SandboxStatus status) =>
        $"Engines must run in a sandbox, which is unavailable on this host: {status.Description}. " +
        "Install bubblewrap (`apt-get install -y bubblewrap`) and make sure it can create namespaces, " +
        "or let engines run unsandboxed with WES_SANDBOX=off; then resubmit the run.";

    internal IReadOnlyList<string> BuildCommand(string executable, IReadOnlyList<string> arguments, SandboxContext context)
    {
        var workspace = context.Workspace;
        // bwrap's --die-with-parent is what ends the sandbox's processes when the engine exits (bwrap's own init would
        // wait for every one of them), but its signal follows the *thread* that started bwrap: a .NET thread-pool thread
        // that retires would kill a healthy run. So a single-threaded `setsid --fork --wait` is bwrap's parent; it also
        // puts bwrap in a session of its own and returns the engine's exit code.
        var command = new List<string> { Program("setsid"), "--fork", "--wait" };
        if (User is { } user)
        {
            command.AddRange([
                Program("setpriv"), $"--reuid={user.Uid}", $"--regid={user.Gid}",
                user.Name is null ? "--clear-groups" : "--init-groups", "--"]);
        }

        command.AddRange([
            BwrapPath,
            "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session",
            // Root inside the sandbox keeps no capability: with one such as CAP_DAC_READ_SEARCH it could reach past every mount.
            "--cap-drop", "ALL",
        ]);
        if (!_options.Network)
        {
            command.Add("--unshare-net");
        }

        // A hidden path of the run's is one or the other; SandboxMounts keeps only the folders, and only the files, of each list.
        var hidden = context.HiddenPaths ?? [];
        command.AddRange(SandboxMounts.Arguments(workspace, _hiddenFolders.Concat(hidden), _hiddenFiles.Concat(hidden), VisibleAnyway(context)));
        command.AddRange(["--chdir", workspace.ExeDir]);
        foreach (var name in SandboxEnvironment.Withheld(_options.PassEnvironmentList))
        {
            command.AddRange(["--unsetenv", name]);
        }

        command.AddRange(["--setenv", "HOME", HomeOf(workspace), "--setenv", "TMPDIR", workspace.TmpDir]);
        if (User?.Name is { } userName)
        {
            command.AddRange(["--setenv", "USER", userName, "--setenv", "LOGNAME", userName]);
        }

        command.Add("--");
        command.Add(executable);
        command.AddRange(arguments);
        return command;
    }

    internal static string Program(string name) => EngineCatalog.FindOnPath(name) ?? name;

    /// <summary>The service-info and log wording of a working sandbox.</summary>
    internal string Describe(string version) =>
        $"{version} (PID, mount and IPC namespaces; network {(_options.Network ? "shared" : "off")}; " +
        $"engines run as {(User is null ? "the server's user" : User.ToString())})";

    /// <summary>The engine's home, inside the run: whatever it keeps there (caches, settings) stays with the run.</summary>
    public static string HomeOf(RunWorkspace workspace) => Path.Combine(workspace.TmpDir, "home");

    /// <summary>Input roots, and the engine's installation and interpreter where they lie in a hidden folder.</summary>
    private IEnumerable<string> VisibleAnyway(SandboxContext context)
    {
        var programs = new[] { context.EngineExecutablePath, SandboxMounts.Interpreter(context.EngineExecutablePath) }.OfType<string>();
        var installs = programs.Select(program => SandboxMounts.InstallFolder(program, _hiddenFolders)).OfType<string>();
        return context.ReadOnlyInputRoots.Concat(installs);
    }

    private static IEnumerable<string> SshHostKeys() =>
        Directory.Exists("/etc/ssh") ? Directory.EnumerateFiles("/etc/ssh", "ssh_host_*_key") : [];

    private static IEnumerable<string> SettingsFiles(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "appsettings*.json") : [];

    /// <summary>Kestrel's certificate files (Kestrel:Certificates:*:Path and KeyPath, Kestrel:Endpoints:*:Certificate:...).</summary>
    private static IEnumerable<string> CertificateFiles(IConfiguration configuration) =>
        configuration.GetSection("Kestrel").AsEnumerable()
            .Where(pair => pair.Value is { Length: > 0 } &&
                (pair.Key.EndsWith(":Path", StringComparison.OrdinalIgnoreCase) || pair.Key.EndsWith(":KeyPath", StringComparison.OrdinalIgnoreCase)))
            .Select(pair => Path.GetFullPath(pair.Value!));
}
