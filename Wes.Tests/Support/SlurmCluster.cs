using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;

namespace Wes.Tests.Support;

/// <summary>
/// A real single-machine Slurm cluster for the tests: munged (as the munge user, with a key of its own), slurmctld and
/// two slurmd "nodes" n1 and n2 of 2 CPUs each, on free loopback ports, with every state, spool and log folder in a
/// throwaway folder. It lives under /var/tmp, not /tmp, because engines run in a sandbox with a private /tmp and must
/// still reach the munge socket and slurm.conf. Teardown cancels every job and stops every daemon it started.
/// </summary>
public sealed class SlurmCluster : IAsyncLifetime
{
    public const string Partition = "debug";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly List<Process> _daemons = [];
    private readonly string _root = Path.Combine("/var/tmp", $"wes-slurm-{Guid.NewGuid():N}");
    private readonly SemaphoreSlim _serverLock = new(1, 1);
    private readonly string _serverDataDir = TempDirectory.Create("wes-slurm-shared");
    private HostProcess? _server;

    public string ConfigPath => Path.Combine(_root, "slurm.conf");

    /// <summary>What a process needs in its environment to use this cluster.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["SLURM_CONF"] = ConfigPath };

    public async Task InitializeAsync()
    {
        foreach (var program in new[] { "munged", "mungekey", "slurmctld", "slurmd", "sbatch" })
        {
            if (Find(program) is null)
            {
                throw new InvalidOperationException(
                    $"{program} not found: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge");
            }
        }

        var munge = Path.Combine(_root, "munge");
        Directory.CreateDirectory(munge);
        foreach (var folder in new[] { "state", "log" })
        {
            Directory.CreateDirectory(Path.Combine(_root, folder));
        }

        // munged refuses a socket folder others cannot enter, and a key anyone but munge can read.
        await RunAsync("chmod", "755", _root, munge);
        await RunAsync("mungekey", "--create", "--keyfile", Path.Combine(munge, "munge.key"));
        await RunAsync("chown", "-R", "munge:munge", munge);
        Start("setpriv", "--reuid=munge", "--regid=munge", "--init-groups", Find("munged")!, "--foreground",
            "--key-file=" + Path.Combine(munge, "munge.key"), "--socket=" + Socket, "--log-file=" + Path.Combine(munge, "log"),
            "--pid-file=" + Path.Combine(munge, "pid"), "--seed-file=" + Path.Combine(munge, "seed"));
        await WaitAsync(() => Task.FromResult(File.Exists(Socket)), "munged to create its socket");

        await File.WriteAllTextAsync(ConfigPath, Config());
        Start(Find("slurmctld")!, "-D", "-c", "-i", "-f", ConfigPath);
        Start(Find("slurmd")!, "-D", "-N", "n1", "-f", ConfigPath);
        Start(Find("slurmd")!, "-D", "-N", "n2", "-f", ConfigPath);
        await WaitAsync(async () => (await SlurmAsync("sinfo", "--noheader", "--format=%t", "--nodes=n1,n2")).Output.Trim() == "idle",
            "both Slurm nodes to be idle");
    }

    /// <summary>
    /// The settings of a server whose runs go to this cluster: Slurm by default, polled often, one attempt per run.
    /// Snakemake checks its cluster jobs every 10 s, or every second where CI=true.
    /// </summary>
    public Dictionary<string, string> ServerEnvironment(string dataDir) => new(Environment)
    {
        ["WES_DATA_DIR"] = dataDir, ["DEFAULT_WES_PROVIDER"] = "Slurm", ["WES_SLURM_POLL"] = "0.3", ["WES_MAX_ATTEMPTS"] = "1",
        ["WES_SLURM_PARTITION"] = Partition, ["CI"] = "true",
    };

    /// <summary>One server for the tests that need no server of their own; started by the first that asks.</summary>
    public async Task<WesClient> SharedClientAsync()
    {
        await _serverLock.WaitAsync();
        try
        {
            _server ??= await HostProcess.StartAsync(ServerEnvironment(_serverDataDir));
            return Client(_server);
        }
        finally
        {
            _serverLock.Release();
        }
    }

    /// <summary>A WES client of a server process.</summary>
    public static WesClient Client(HostProcess host) => new(new HttpClient { BaseAddress = new Uri(host.BaseUrl!) }, "/ga4gh/wes/v1");

    /// <summary>The run's Slurm job, as its system_logs name it ("... as slurm:12"); null before its start is recorded.</summary>
    public static string? JobIdIn(JsonObject runLog) =>
        runLog["run_log"]!["system_logs"]!.AsArray().Select(l => Regex.Match(l!.GetValue<string>(), @"as slurm:(\d+)"))
            .FirstOrDefault(m => m.Success)?.Groups[1].Value;

    /// <summary>The run's Slurm job, once its system_logs name it.</summary>
    public static async Task<string> JobIdAsync(WesClient client, string runId, TimeSpan timeout)
    {
        string? jobId = null;
        await ProcessTable.WaitUntilAsync(async () => (jobId = JobIdIn(await client.GetJsonAsync($"/runs/{runId}"))) is not null,
            timeout, "the run's system_logs to name its Slurm job");
        return jobId!;
    }

    /// <summary>Runs a Slurm client command against this cluster: its exit code, and its stdout followed by its stderr.</summary>
    public async Task<(int ExitCode, string Output)> SlurmAsync(string program, params string[] arguments)
    {
        var (code, output, error) = await ExecuteAsync(program, arguments, ConfigPath);
        return (code, output + error);
    }

    /// <summary>The jobs the controller has in a state that still runs (squeue's default: pending, running, completing).</summary>
    public async Task<IReadOnlyList<string>> ActiveJobsAsync() =>
        (await SlurmAsync("squeue", "--noheader", "--format=%i")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Every job the controller remembers (MinJobAge=600 keeps ended ones), as "id|state|nodes|name".</summary>
    public async Task<IReadOnlyList<string>> AllJobsAsync() =>
        (await SlurmAsync("squeue", "--noheader", "--states=all", "--format=%i|%T|%N|%j")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public async Task DisposeAsync()
    {
        _server?.Dispose();
        TempDirectory.Delete(_serverDataDir);
        _serverLock.Dispose();
        try
        {
            if (_daemons.Count > 0 && !_daemons[0].HasExited)
            {
                // Jobs first, so no job step outlives its slurmd.
                await SlurmAsync("scancel", "--full", "--partition=" + Partition);
                await WaitAsync(async () => (await ActiveJobsAsync()).Count == 0, "the test jobs to end", TimeSpan.FromSeconds(20));
            }
        }
        catch (TimeoutException)
        {
            // The daemons go all the same.
        }

        foreach (var daemon in Enumerable.Reverse(_daemons))
        {
            if (!daemon.HasExited)
            {
                daemon.Kill(entireProcessTree: true);
                await daemon.WaitForExitAsync();
            }

            daemon.Dispose();
        }

        TempDirectory.Delete(_root);
    }

    /// <summary>munged's socket: whoever can reach it can ask the controller for anything the user may do.</summary>
    public string MungeSocket => Path.Combine(_root, "munge", "socket");

    private string Socket => MungeSocket;

    private string Config()
    {
        var host = System.Net.Dns.GetHostName().Split('.')[0];
        var ports = Enumerable.Range(0, 4).Select(_ => LocalHttpServer.FreePort().ToString(CultureInfo.InvariantCulture)).ToArray();
        return $"""
            ClusterName=westest
            SlurmctldHost={host}(127.0.0.1)
            SlurmctldPort={ports[0]}
            SlurmdPort={ports[1]}
            AuthType=auth/munge
            AuthInfo=socket={Socket}
            CredType=cred/munge
            SlurmUser=root
            SlurmdUser=root
            StateSaveLocation={_root}/state
            SlurmdSpoolDir={_root}/spool-%n
            SlurmctldPidFile={_root}/slurmctld.pid
            SlurmdPidFile={_root}/slurmd-%n.pid
            SlurmctldLogFile={_root}/log/slurmctld.log
            SlurmdLogFile={_root}/log/slurmd-%n.log
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core
            AccountingStorageType=accounting_storage/none
            JobAcctGatherType=jobacct_gather/none
            JobCompType=jobcomp/filetxt
            JobCompLoc={_root}/log/jobcomp.txt
            MinJobAge=600
            KillWait=3
            ReturnToService=2
            SchedulerParameters=sched_interval=2
            SchedulerTimeSlice=5
            MpiDefault=none
            NodeName=n1 NodeHostname={host} NodeAddr=127.0.0.1 Port={ports[2]} CPUs=2 RealMemory=2000 State=UNKNOWN
            NodeName=n2 NodeHostname={host} NodeAddr=127.0.0.1 Port={ports[3]} CPUs=2 RealMemory=2000 State=UNKNOWN
            PartitionName={Partition} Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP

            """;
    }

    private void Start(string program, params string[] arguments)
    {
        // The daemons log to files in the cluster's folder; what they print besides is read and dropped.
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["SLURM_CONF"] = ConfigPath;
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var daemon = Process.Start(start)!;
        daemon.OutputDataReceived += (_, _) => { };
        daemon.ErrorDataReceived += (_, _) => { };
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        _daemons.Add(daemon);
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var (code, output, error) = await ExecuteAsync(program, arguments, slurmConf: null);
        if (code != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({code}): {error}{output}");
        }
    }

    private static async Task<(int ExitCode, string Output, string Error)> ExecuteAsync(string program, string[] arguments, string? slurmConf)
    {
        var start = new ProcessStartInfo(Find(program) ?? program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (slurmConf is not null)
        {
            start.Environment["SLURM_CONF"] = slurmConf;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    private static Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        ProcessTable.WaitUntilAsync(condition, timeout ?? StartTimeout, what);

    private static string? Find(string program) =>
        new[] { "/usr/sbin", "/usr/bin", "/sbin", "/bin" }.Concat(System.Environment.GetEnvironmentVariable("PATH")!.Split(':'))
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);
}

/// <summary>Tests that need the Slurm cluster: one cluster for all of them, one test at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SlurmCollection : ICollectionFixture<SlurmCluster>
{
    public const string Name = "Slurm";
}
