using System.Diagnostics;
using Wes.Execution;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>Opening files a workflow controls: only regular files, never through a final link, never blocking.</summary>
public sealed class RegularFileTests : IDisposable
{
    private readonly string _dir = TempDirectory.Create("wes-regular");

    public void Dispose() => TempDirectory.Delete(_dir);

    [Fact]
    public void TryOpen_ReadsARegularFileAndReportsItsSizeAndLinks()
    {
        var path = Path.Combine(_dir, "file.txt");
        File.WriteAllText(path, "hello");

        using var stream = RegularFile.TryOpen(path, out var facts);

        Assert.NotNull(stream);
        Assert.Equal(new FileFacts(true, 5, 1), facts);
        Assert.Equal("hello", new StreamReader(stream).ReadToEnd());
    }

    [Fact]
    public async Task TryOpen_RefusesAFifoWithoutBlocking()
    {
        var fifo = Path.Combine(_dir, "fifo");
        Process.Start("mkfifo", [fifo]).WaitForExit();

        // A plain open() of a FIFO with no writer would never return; this must return at once with nothing.
        var opening = Task.Run(() => RegularFile.TryOpen(fifo, out _));

        Assert.Null(await opening.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void TryOpen_RefusesASymbolicLinkAndAFolder()
    {
        var target = Path.Combine(_dir, "target.txt");
        File.WriteAllText(target, "secret");
        var link = Path.Combine(_dir, "link.txt");
        File.CreateSymbolicLink(link, target);

        Assert.Null(RegularFile.TryOpen(link, out _));
        Assert.Null(RegularFile.TryOpen(_dir, out _));
        Assert.Null(RegularFile.TryOpen(Path.Combine(_dir, "missing"), out _));
    }

    [Fact]
    public void TryOpen_CountsHardLinks()
    {
        var target = Path.Combine(_dir, "target.txt");
        File.WriteAllText(target, "x");
        Process.Start("ln", [target, Path.Combine(_dir, "hard.txt")]).WaitForExit();

        using var stream = RegularFile.TryOpen(target, out var facts);

        Assert.Equal(2, facts!.LinkCount);
    }
}
