using System.Net;
using System.Net.Sockets;
using Wes.Execution;
using Wes.Execution.Sandbox;
using Wes.Tests.Support;

namespace Wes.Tests.Execution.Sandbox;

/// <summary>Real bubblewrap around real processes: what an engine leaves behind, reaches, and runs as.</summary>
[Collection(SandboxCollection.Name)]
public sealed class SandboxProcessTests
{
    [Fact]
    public async Task DetachedProcess_DiesWhenTheEngineExits()
    {
        using var harness = new SandboxHarness();
        var marker = $"600.{Random.Shared.Next(100_000, 999_999)}";
        var release = Path.Combine(harness.Workspace.ExeDir, "release");
        harness.Sandbox.PrepareRunDirectory(harness.Workspace);

        // The engine leaves a process behind in a session of its own, then exits when the test says so.
        using var engine = SandboxHarness.Start(harness.Wrap("/bin/sh", "-c",
            $"setsid sleep {marker} > /dev/null 2>&1 < /dev/null & while [ ! -e {release} ]; do sleep 0.05; done"));
        await ProcessTable.WaitUntilAsync(() => ProcessTable.FindByCommandLine("sleep", marker).Count == 1, TimeSpan.FromSeconds(20), "the detached process runs");
        File.WriteAllText(release, "");
        await engine.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.Equal(0, engine.ExitCode);
        await ProcessTable.WaitUntilAsync(() => ProcessTable.FindByCommandLine("sleep", marker).Count == 0, TimeSpan.FromSeconds(10), "the detached process is gone");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Network_WhenOff_LoopbackListenerOfTheHostIsUnreachable(bool network)
    {
        using var harness = new SandboxHarness(o => o.Network = network);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var (exitCode, _, stderr) = await harness.RunAsync("/bin/bash", "-c", $"exec 3<>/dev/tcp/127.0.0.1/{port}");

        Assert.True(exitCode == (network ? 0 : 1), $"exit code {exitCode}: {stderr}");
    }

    [Fact]
    public async Task EngineUser_RunsTheEngineAndOwnsWhatItWrites()
    {
        using var harness = new SandboxHarness(o => o.User = "nobody");
        File.WriteAllText(Path.Combine(harness.Workspace.ExeDir, "attachment.txt"), "attached");

        var (exitCode, stdout, stderr) = await harness.ShellAsync(
            $"id -u; cat attachment.txt; echo; echo out > {harness.Workspace.OutputsDir}/result.txt; cat /etc/shadow");

        Assert.NotEqual(0, exitCode);
        Assert.Equal(["65534", "attached"], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));
        Assert.Equal(65534u, EngineUser.Stat(Path.Combine(harness.Workspace.OutputsDir, "result.txt"), false)!.Uid);
        // The run's own folder stays the server's.
        Assert.Equal(0u, EngineUser.Stat(harness.Workspace.Root, false)!.Uid);
    }

    [Fact]
    public async Task Sandbox_OutlivesTheThreadThatStartedIt()
    {
        using var harness = new SandboxHarness();
        harness.Sandbox.PrepareRunDirectory(harness.Workspace);
        var argv = harness.Wrap("/bin/sh", "-c", "sleep 1; echo survived");
        System.Diagnostics.Process? engine = null;

        // Thread-pool threads retire when idle; a run must not die with the thread that happened to start it.
        var starter = new Thread(() =>
        {
            engine = SandboxHarness.Start(argv);
            Thread.Sleep(300);
        });
        starter.Start();
        starter.Join();
        using var started = engine!;
        var stdout = await started.StandardOutput.ReadToEndAsync();
        await started.WaitForExitAsync();

        Assert.Equal(0, started.ExitCode);
        Assert.Equal("survived\n", stdout);
    }

    [Fact]
    public async Task KillingTheSandboxTree_EndsEveryProcessInIt()
    {
        using var harness = new SandboxHarness();
        var marker = $"600.{Random.Shared.Next(100_000, 999_999)}";
        harness.Sandbox.PrepareRunDirectory(harness.Workspace);
        using var engine = SandboxHarness.Start(harness.Wrap("/bin/sh", "-c", $"setsid sleep {marker} > /dev/null 2>&1 < /dev/null & sleep 600"));
        await ProcessTable.WaitUntilAsync(() => ProcessTable.FindByCommandLine("sleep", marker).Count == 1, TimeSpan.FromSeconds(20), "the detached process runs");

        // What the executor does to stop an engine: everything below the process it started, then that process.
        ProcessTree.KillSurvivors([.. ProcessTree.Descendants(engine.Id), new ProcessTree.Member(engine.Id, StartTime(engine.Id))]);
        await engine.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        await ProcessTable.WaitUntilAsync(() => ProcessTable.FindByCommandLine("sleep", marker).Count == 0, TimeSpan.FromSeconds(10), "the detached process is gone");
    }

    [Fact]
    public async Task SignalEngine_LetsTheEngineStopGracefully()
    {
        using var harness = new SandboxHarness();
        var stopped = Path.Combine(harness.Workspace.OutputsDir, "stopped");
        harness.Sandbox.PrepareRunDirectory(harness.Workspace);
        using var engine = SandboxHarness.Start(harness.Wrap("/bin/sh", "-c",
            $"trap 'echo cleaned up > {stopped}; exit 143' TERM; echo ready; while true; do sleep 0.05; done"));
        Assert.Equal("ready", await engine.StandardOutput.ReadLineAsync());

        var inner = SandboxProcesses.EngineOf(engine.Id);
        Assert.NotNull(inner);
        Assert.Contains("/bin/sh", File.ReadAllText($"/proc/{inner}/cmdline"), StringComparison.Ordinal);
        const int SigTerm = 15;
        Assert.True(SandboxProcesses.SignalEngine(engine.Id, SigTerm));

        await engine.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        Assert.Equal(143, engine.ExitCode);
        Assert.Equal("cleaned up\n", File.ReadAllText(stopped));
    }

    private static long StartTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19], System.Globalization.CultureInfo.InvariantCulture);
    }
}
