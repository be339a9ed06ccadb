using Wes.Execution;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>Folders left by submissions a crash cut short are removed once old; everything else stays, links included.</summary>
public sealed class WorkspaceJanitorTests : IDisposable
{
    private readonly string _dataDir = TempDirectory.Create("wes-janitor");
    private readonly string _outside = TempDirectory.Create("wes-janitor-outside");

    public void Dispose()
    {
        TempDirectory.Delete(_dataDir);
        TempDirectory.Delete(_outside);
    }

    private string RunsDir => Path.Combine(_dataDir, "runs");

    [Fact]
    public async Task Sweep_RemovesOldLeftovers_AndKeepsYoungOnes_RunsWithARow_LinksAndOtherNames()
    {
        using var factory = new WesApplicationFactory(workers: 0, dataDir: _dataDir);
        using var wes = factory.CreateWesClient();
        var submitted = await wes.SubmitAsync(new RunRequestBuilder());
        Age(Path.Combine(RunsDir, submitted));
        var oldOrphan = Leftover(Guid.NewGuid().ToString(), old: true);
        var youngOrphan = Leftover(Guid.NewGuid().ToString(), old: false);
        var oldStaging = Leftover(".staging-" + Guid.NewGuid(), old: true);
        var youngStaging = Leftover(".staging-" + Guid.NewGuid(), old: false);
        var otherName = Leftover("notes", old: true);
        var upperCase = Leftover(Guid.NewGuid().ToString().ToUpperInvariant(), old: true);
        // A link named like a run, to a folder elsewhere: neither the link nor what it points to is touched.
        var target = Directory.CreateDirectory(Path.Combine(_outside, "precious")).FullName;
        File.WriteAllText(Path.Combine(target, "keep.txt"), "keep");
        Age(target);
        var link = Path.Combine(RunsDir, Guid.NewGuid().ToString());
        Directory.CreateSymbolicLink(link, target);
        // An old staging folder holding a link out: the link goes, its target stays.
        File.CreateSymbolicLink(Path.Combine(oldStaging, "exe", "out"), Path.Combine(target, "keep.txt"));
        Age(oldStaging);

        // The executor's own sweep at start-up may have run already; what is left afterwards is what counts.
        await factory.Service<WorkspaceJanitor>().SweepAsync(CancellationToken.None);

        Assert.False(Directory.Exists(oldOrphan));
        Assert.False(Directory.Exists(oldStaging));
        Assert.True(Directory.Exists(Path.Combine(RunsDir, submitted, "exe")));
        Assert.All([youngOrphan, youngStaging, otherName, upperCase, link], folder => Assert.True(Directory.Exists(folder), folder));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(target, "keep.txt")));
        Assert.Equal("QUEUED", await wes.StateAsync(submitted));
    }

    [Fact]
    public async Task Sweep_KeepsAnOldFolderWhoseSubfolderWasJustWritten()
    {
        using var factory = new WesApplicationFactory(workers: 0, dataDir: _dataDir);
        var staging = Leftover(".staging-" + Guid.NewGuid(), old: true);
        // Attachments still arriving in exe/ leave the staging folder's own time at its creation.
        Directory.SetLastWriteTimeUtc(Path.Combine(staging, "exe"), DateTime.UtcNow);

        Assert.Equal(0, await factory.Service<WorkspaceJanitor>().SweepAsync(CancellationToken.None));
        Assert.True(Directory.Exists(staging));
    }

    [Fact]
    public async Task ExecutorStart_RemovesWhatACrashLeftBehind()
    {
        Directory.CreateDirectory(RunsDir);
        var orphan = Leftover(Guid.NewGuid().ToString(), old: true);
        var staging = Leftover(".staging-" + Guid.NewGuid(), old: true);

        using var factory = new WesApplicationFactory(workers: 1, dataDir: _dataDir);
        using var wes = factory.CreateWesClient();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((Directory.Exists(orphan) || Directory.Exists(staging)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(25);
        }

        Assert.False(Directory.Exists(orphan), "the orphaned run folder is still there");
        Assert.False(Directory.Exists(staging), "the staging folder is still there");
    }

    /// <summary>A folder with files like a staged run's; old ones look untouched for two hours (the grace is one).</summary>
    private string Leftover(string name, bool old)
    {
        var folder = Path.Combine(RunsDir, name);
        Directory.CreateDirectory(Path.Combine(folder, "exe"));
        File.WriteAllText(Path.Combine(folder, "exe", "hello.cwl"), "cwlVersion: v1.0");
        File.WriteAllText(Path.Combine(folder, "request.json"), "{}");
        if (old)
        {
            Age(folder);
        }

        return folder;
    }

    private static void Age(string folder)
    {
        var twoHoursAgo = DateTime.UtcNow.AddHours(-2);
        foreach (var sub in Directory.GetDirectories(folder))
        {
            Directory.SetLastWriteTimeUtc(sub, twoHoursAgo);
        }

        Directory.SetLastWriteTimeUtc(folder, twoHoursAgo);
    }
}
