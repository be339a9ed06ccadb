using System.Text.Json.Nodes;
using Wes.Execution.Engines;

namespace Wes.Tests.Execution.Sandbox;

/// <summary>The real cwltool inside the sandbox: its Python, its temporary folders, a real workflow, as root and as nobody.</summary>
[Collection(SandboxCollection.Name)]
public sealed class CwltoolInSandboxTests
{
    private static readonly string Examples = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../examples"));

    [Fact]
    public async Task CwltoolVersion_RunsInside()
    {
        using var harness = new SandboxHarness();

        var (exitCode, stdout, stderr) = await harness.RunAsync(Cwltool(), "--version");

        Assert.True(exitCode == 0, stderr);
        Assert.Matches(@"\d+\.\d+", stdout);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("nobody")]
    public async Task HelloWorkflow_CompletesWithItsOutputInTheRun(string? user)
    {
        using var harness = new SandboxHarness(o => o.User = user);
        var run = harness.Workspace;
        File.Copy(Path.Combine(Examples, "hello", "hello.cwl"), Path.Combine(run.ExeDir, "hello.cwl"));
        File.Copy(Path.Combine(Examples, "hello", "params.json"), run.ParamsPath);

        var (exitCode, stdout, stderr) = await harness.RunAsync(Cwltool(),
            "--outdir", run.OutputsDir, "--tmpdir-prefix", run.TmpDir + "/", "--tmp-outdir-prefix", run.TmpDir + "/",
            Path.Combine(run.ExeDir, "hello.cwl"), run.ParamsPath);

        Assert.True(exitCode == 0, stderr);
        var output = JsonNode.Parse(stdout)!["output"]!["path"]!.GetValue<string>();
        Assert.StartsWith(run.OutputsDir + "/", output, StringComparison.Ordinal);
        Assert.Equal("Hello from WES\n", File.ReadAllText(output));
    }

    private static string Cwltool() =>
        EngineCatalog.FindOnPath("cwltool") ?? throw new InvalidOperationException("cwltool is not installed (apt-get install -y cwltool)");
}
