using System.Diagnostics;
using Wes.Execution;
using Wes.Tests.Support;

namespace Wes.Tests.Execution;

/// <summary>Following a growing log: each line once, in bounded pieces, and nothing from a file that is not a file.</summary>
public sealed class LogTailTests : IDisposable
{
    private readonly string _dir = TempDirectory.Create("wes-tail");

    public void Dispose() => TempDirectory.Delete(_dir);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void GrowingLog_EachCompleteLineIsReadOnce()
    {
        var log = PathOf("stderr.log");
        File.WriteAllText(log, "one\ntwo\nthr");
        var tail = new LogTail(log);

        Assert.Equal(["one", "two"], tail.ReadNewLines());
        Assert.Empty(tail.ReadNewLines());

        File.AppendAllText(log, "ee\nfour\n");
        Assert.Equal(["three", "four"], tail.ReadNewLines());
    }

    [Fact]
    public void OverlongLine_IsSkippedWholeAndCounted()
    {
        var log = PathOf("stderr.log");
        File.WriteAllText(log, "before\n" + new string('x', LogTail.MaxLineBytes + 10) + "\nafter\n");
        var tail = new LogTail(log);

        Assert.Equal(["before", "after"], tail.ReadNewLines());
        Assert.Equal(1, tail.SkippedLines);
    }

    [Fact]
    public void ReplacedByAShorterFile_IsReadAgainFromTheStart()
    {
        var log = PathOf("stderr.log");
        File.WriteAllText(log, "a long first line\n");
        var tail = new LogTail(log);
        tail.ReadNewLines();

        File.WriteAllText(log, "new\n");

        Assert.Equal(["new"], tail.ReadNewLines());
    }

    [Fact]
    public async Task FifoOrLinkInItsPlace_ReadsNothingAndDoesNotBlock()
    {
        var fifo = PathOf("fifo.log");
        Process.Start("mkfifo", [fifo]).WaitForExit();
        var link = PathOf("link.log");
        File.WriteAllText(PathOf("secret"), "secret\n");
        File.CreateSymbolicLink(link, PathOf("secret"));

        var fromFifo = await Task.Run(() => new LogTail(fifo).ReadNewLines().ToList()).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Empty(fromFifo);
        Assert.Empty(new LogTail(link).ReadNewLines());
    }

    [Fact]
    public void HugeLog_IsReadInBoundedPieces()
    {
        var log = PathOf("big.log");
        using (var file = File.Create(log))
        {
            var line = System.Text.Encoding.ASCII.GetBytes(new string('y', 1023) + "\n");
            for (var i = 0; i < (LogTail.MaxBytesPerRead / 1024) + 1024; i++)
            {
                file.Write(line);
            }
        }

        var tail = new LogTail(log);
        var first = tail.ReadNewLines().Count();
        var second = tail.ReadNewLines().Count();

        Assert.Equal(LogTail.MaxBytesPerRead / 1024, first);
        Assert.Equal(1024, second);
    }
}
