using Wes.Execution.Sandbox;

namespace Wes.Tests.Execution.Sandbox;

/// <summary>Whether the sandbox is used, what it is told, and what an engine inherits from the server.</summary>
[Collection(SandboxCollection.Name)]
public sealed class EngineSandboxTests
{
    [Fact]
    public void Status_WithBubblewrap_IsEnabledAndNamesItsVersion()
    {
        using var harness = new SandboxHarness();

        var status = harness.Sandbox.Status;

        Assert.Equal(SandboxState.Enabled, status.State);
        Assert.StartsWith("bubblewrap 0.", status.Tag, StringComparison.Ordinal);
        Assert.Contains("network shared", status.Tag, StringComparison.Ordinal);
        // The probe's throwaway run in the data directory is gone again.
        Assert.Equal(["runs", "wes.db"], Directory.EnumerateFileSystemEntries(harness.DataDir).Select(Path.GetFileName).Order());
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Status_WhenTheEngineUserCannotReachTheDataDirectory_IsUnavailableAndSaysWhere()
    {
        using var harness = new SandboxHarness(o => o.User = "nobody");
        var closed = Path.GetDirectoryName(harness.DataDir)!;
        File.SetUnixFileMode(closed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var status = harness.Sandbox.Status;

        Assert.Equal(SandboxState.Unavailable, status.State);
        Assert.Contains($"nobody (uid 65534) cannot pass through {closed}", status.Description, StringComparison.Ordinal);
        Assert.Contains($"chmod o+x {closed}", EngineSandbox.UnavailableMessage(status), StringComparison.Ordinal);
    }

    [Fact]
    public void Wrap_WithSandboxOff_ReturnsTheCommandUnchanged()
    {
        using var harness = new SandboxHarness(o => o.Mode = "off");

        Assert.Equal(["/usr/bin/cwltool", "--outdir", "out", "wf.cwl"], harness.Wrap("/usr/bin/cwltool", "--outdir", "out", "wf.cwl"));
        Assert.Equal(SandboxState.DisabledByOperator, harness.Sandbox.Status.State);
        Assert.Equal("off (WES_SANDBOX=off)", harness.Sandbox.Status.Tag);
    }

    [Fact]
    public void Wrap_WithoutBubblewrap_RefusesWithHowToInstallOrOptOut()
    {
        using var harness = new SandboxHarness(o => o.BwrapPath = "/nonexistent/bwrap");

        Assert.Equal(SandboxState.Unavailable, harness.Sandbox.Status.State);
        Assert.Equal("unavailable: bubblewrap not found (/nonexistent/bwrap)", harness.Sandbox.Status.Tag);
        var refusal = Assert.Throws<SandboxUnavailableException>(() => harness.Wrap("/usr/bin/cwltool", "wf.cwl"));
        Assert.Contains("apt-get install -y bubblewrap", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("WES_SANDBOX=off", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerSecrets_InTheEnvironment_AreNotPassedOn()
    {
        using var harness = new SandboxHarness(o => o.PassEnvironment = "WES_SANDBOX_TEST_PASSED_KEY");
        Environment.SetEnvironmentVariable("WES_SANDBOX_TEST_SETTING", "setting-value-1");
        Environment.SetEnvironmentVariable("SANDBOX_TEST_API_TOKEN", "token-value-2");
        Environment.SetEnvironmentVariable("ConnectionStrings__SandboxTest", "Password=value-3");
        Environment.SetEnvironmentVariable("WES_SANDBOX_TEST_PASSED_KEY", "passed-value-4");
        try
        {
            var (exitCode, stdout, stderr) = await harness.RunAsync("/usr/bin/env");

            Assert.True(exitCode == 0, stderr);
            Assert.DoesNotContain("value-1", stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("value-2", stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("value-3", stdout, StringComparison.Ordinal);
            Assert.Contains("WES_SANDBOX_TEST_PASSED_KEY=passed-value-4\n", stdout, StringComparison.Ordinal);
            Assert.Contains($"PATH={Environment.GetEnvironmentVariable("PATH")}\n", stdout, StringComparison.Ordinal);
            Assert.Contains($"HOME={EngineSandbox.HomeOf(harness.Workspace)}\n", stdout, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var name in new[] { "WES_SANDBOX_TEST_SETTING", "SANDBOX_TEST_API_TOKEN", "ConnectionStrings__SandboxTest", "WES_SANDBOX_TEST_PASSED_KEY" })
            {
                Environment.SetEnvironmentVariable(name, null);
            }
        }
    }

    [Fact]
    public void Wrap_PutsNoEnvironmentValueOnTheCommandLine()
    {
        using var harness = new SandboxHarness();
        Environment.SetEnvironmentVariable("SANDBOX_TEST_ARGV_SECRET", "argv-secret-value");
        try
        {
            harness.Sandbox.PrepareRunDirectory(harness.Workspace);
            var argv = harness.Wrap("/bin/true");

            Assert.DoesNotContain(argv, a => a.Contains("argv-secret-value", StringComparison.Ordinal));
            Assert.Contains("SANDBOX_TEST_ARGV_SECRET", argv);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SANDBOX_TEST_ARGV_SECRET", null);
        }
    }
}
