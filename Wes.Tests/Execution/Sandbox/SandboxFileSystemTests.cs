using Wes.Execution.Sandbox;

namespace Wes.Tests.Execution.Sandbox;

/// <summary>Real bubblewrap around real processes: what an engine can see and write.</summary>
[Collection(SandboxCollection.Name)]
public sealed class SandboxFileSystemTests
{
    [Fact]
    public async Task RunFolders_AreWritableAndWhatTheEngineWritesIsThereOutside()
    {
        using var harness = new SandboxHarness();
        var run = harness.Workspace;

        var (exitCode, _, stderr) = await harness.ShellAsync(
            $"echo out > {run.OutputsDir}/result.txt && echo here > in-exe.txt && echo tmp > {run.TmpDir}/t && echo e > {run.EngineDir}/e && echo h > \"$HOME/h\"");

        Assert.True(exitCode == 0, stderr);
        Assert.Equal("out\n", File.ReadAllText(Path.Combine(run.OutputsDir, "result.txt")));
        Assert.Equal("here\n", File.ReadAllText(Path.Combine(run.ExeDir, "in-exe.txt")));
        Assert.True(File.Exists(Path.Combine(run.TmpDir, "t")) && File.Exists(Path.Combine(run.EngineDir, "e")));
        Assert.Equal("h\n", File.ReadAllText(Path.Combine(EngineSandbox.HomeOf(run), "h")));
    }

    [Fact]
    public async Task RunFolderItself_IsReadOnly_SoItsFilesAndLogsCannotBeReplaced()
    {
        using var harness = new SandboxHarness();
        var run = harness.Workspace;
        var rootFile = harness.RootFilePath;

        var (_, stdout, _) = await harness.ShellAsync(
            $"cat {rootFile}; echo; echo x > {rootFile} && echo wrote-file; mkfifo {run.StdoutPath} && echo made-fifo; true");

        Assert.Equal("{}\n", stdout);
        Assert.Equal("{}", File.ReadAllText(rootFile));
        Assert.False(File.Exists(run.StdoutPath));
    }

    [Fact]
    public async Task DataDirectory_HidesTheDatabaseAndOtherRuns()
    {
        using var harness = new SandboxHarness();

        var (_, stdout, _) = await harness.ShellAsync(
            $"ls -A {harness.DataDir}; test -e {harness.DatabasePath} && echo database-visible; " +
            $"cat {harness.OtherRunDir}/outputs/result.txt; echo x > {harness.DataDir}/planted && echo planted; true");

        // Only the path down to this run is there, and nothing can be added beside it.
        Assert.Equal("runs\n", stdout);
        Assert.True(File.Exists(harness.DatabasePath));
        Assert.False(File.Exists(Path.Combine(harness.DataDir, "planted")));
    }

    [Fact]
    public async Task SecretFiles_ReadEmpty()
    {
        using var harness = new SandboxHarness();
        Assert.NotEmpty(File.ReadAllText("/etc/shadow"));

        var (_, stdout, stderr) = await harness.ShellAsync("cat /etc/shadow; ls -A /root | wc -l");

        Assert.Equal("0\n", stdout);
        Assert.Contains("/etc/shadow: Permission denied", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tmp_IsPrivate()
    {
        using var harness = new SandboxHarness();
        var name = $"wes-sandbox-private-{Guid.NewGuid():N}";

        var (exitCode, stdout, stderr) = await harness.ShellAsync($"echo private > /tmp/{name} && cat /tmp/{name}");

        Assert.True(exitCode == 0, stderr);
        Assert.Equal("private\n", stdout);
        Assert.False(File.Exists(Path.Combine("/tmp", name)));
    }

    [Fact]
    public async Task InputRoot_IsReadableButNotWritable()
    {
        using var harness = new SandboxHarness();

        var (_, stdout, _) = await harness.ShellAsync(
            $"cat {harness.InputRoot}/input.txt; echo; echo x > {harness.InputRoot}/input.txt && echo overwritten; " +
            $"touch {harness.InputRoot}/new && echo created; true");

        Assert.Equal("input data\n", stdout);
        Assert.Equal("input data", File.ReadAllText(Path.Combine(harness.InputRoot, "input.txt")));
        Assert.False(File.Exists(Path.Combine(harness.InputRoot, "new")));
    }

    [Fact]
    public async Task InputRootInsideTheDataDirectory_IsVisibleWhileTheRestStaysHidden()
    {
        using var harness = new SandboxHarness();
        var shared = Path.Combine(harness.DataDir, "shared");
        Directory.CreateDirectory(shared);
        File.WriteAllText(Path.Combine(shared, "reference.txt"), "reference");
        harness.Sandbox.PrepareRunDirectory(harness.Workspace);
        var argv = harness.Sandbox.Wrap("/bin/sh", ["-c", $"cat {shared}/reference.txt; echo; test -e {harness.DatabasePath} && echo database-visible; true"],
            new SandboxContext(harness.Workspace, "/bin/sh", [shared]));

        using var process = SandboxHarness.Start(argv);
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal("reference\n", stdout);
    }

    [Fact]
    public async Task PrepareRunDirectory_GivesALinkAwayWithoutTouchingWhatItPointsAt()
    {
        using var harness = new SandboxHarness(o => o.User = "nobody");
        var target = Path.Combine(harness.InputRoot, "input.txt");
        var link = Path.Combine(harness.Workspace.ExeDir, "link");
        File.CreateSymbolicLink(link, target);
        var hardLink = Path.Combine(harness.Workspace.ExeDir, "hard");
        using (var ln = System.Diagnostics.Process.Start("ln", [target, hardLink]))
        {
            await ln.WaitForExitAsync();
            Assert.Equal(0, ln.ExitCode);
        }

        harness.Sandbox.PrepareRunDirectory(harness.Workspace);

        Assert.Equal(65534u, EngineUser.Stat(link, followLinks: false)!.Uid);
        // Neither the symbolic link nor the hard link carried the change to the file outside the run.
        Assert.Equal(0u, EngineUser.Stat(target, followLinks: false)!.Uid);
        Assert.Equal(65534u, EngineUser.Stat(harness.Workspace.ExeDir, followLinks: false)!.Uid);
    }
}
