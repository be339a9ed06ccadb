using Wes.Execution;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>Engines started with their output going straight to files, and followed by their exit alone.</summary>
public sealed class NativeProcessTests : IDisposable
{
    private readonly string _dir = TempDirectory.Create("wes-spawn");

    public void Dispose() => TempDirectory.Delete(_dir);

    private LocalProcessHandle Start(string script) =>
        EngineProcess.Start(["/bin/sh", "-c", script], _dir, Path.Combine(_dir, "stdout.log"), Path.Combine(_dir, "stderr.log"));

    [Fact]
    public async Task OutputGoesToTheFilesAndTheExitCodeIsReported()
    {
        var handle = Start("echo out; echo err >&2; pwd; exit 7");

        Assert.Equal(7, await EngineProcess.WaitForExitAsync(handle, CancellationToken.None));
        Assert.Equal($"out\n{_dir}\n", File.ReadAllText(Path.Combine(_dir, "stdout.log")));
        Assert.Equal("err\n", File.ReadAllText(Path.Combine(_dir, "stderr.log")));
    }

    [Fact]
    public async Task DetachedChildHoldingTheOutput_DoesNotDelayTheEnd()
    {
        var seconds = Random.Shared.Next(100_000, 900_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var handle = Start($"setsid sleep {seconds} & echo started");
        try
        {
            var exit = await EngineProcess.WaitForExitAsync(handle, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(0, exit);
        }
        finally
        {
            foreach (var pid in ProcessTable.FindByCommandLine("sleep", seconds))
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill();
            }
        }
    }

    [Fact]
    public async Task SignalsAreAtTheirDefaults_SoAStoppedEngineCanBeEndedWithSigterm()
    {
        var handle = Start("sleep 600");
        Assert.True(handle.IsAlive());

        var exit = await EngineProcess.StopAsync(handle, TimeSpan.FromSeconds(10));

        Assert.Equal(128 + 15, exit);
        Assert.False(handle.IsAlive());
    }

    [Fact]
    public async Task LinkPlantedWhereTheLogGoes_IsReplacedNotWrittenThrough()
    {
        var target = Path.Combine(_dir, "precious.txt");
        File.WriteAllText(target, "keep me");
        File.CreateSymbolicLink(Path.Combine(_dir, "stdout.log"), target);

        var handle = Start("echo overwritten");

        Assert.Equal(0, await EngineProcess.WaitForExitAsync(handle, CancellationToken.None));
        Assert.Equal("keep me", File.ReadAllText(target));
        Assert.Equal("overwritten\n", File.ReadAllText(Path.Combine(_dir, "stdout.log")));
    }

    [Fact]
    public void MissingProgram_IsAClearError()
    {
        var error = Assert.Throws<System.ComponentModel.Win32Exception>(() =>
            EngineProcess.Start(["/nonexistent/engine"], _dir, Path.Combine(_dir, "o"), Path.Combine(_dir, "e")));

        Assert.Contains("/nonexistent/engine", error.Message, StringComparison.Ordinal);
    }
}
