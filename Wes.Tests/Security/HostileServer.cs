using Wes.Persistence;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>
/// A server with small limits whose data directory sits inside a sentinel tree: every file outside the data
/// directory is known in advance, so anything a request manages to write elsewhere shows up.
/// </summary>
public sealed class HostileServer : IDisposable
{
    public const long MaxBody = 256 * 1024;
    public const int MaxField = 4096;
    public const int MaxAttachments = 5;
    public const long MaxAttachmentBytes = 64 * 1024;

    /// <summary>In the name of every file an attack tries to create, so a search can find it wherever it landed.</summary>
    public static readonly string Marker = "pwned-" + Guid.NewGuid().ToString("N")[..8];

    public HostileServer()
    {
        Root = TempDirectory.Create("wes-hostile");
        foreach (var sentinel in new[] { "sentinel.txt", "etc/passwd", "outside/runs/keep.txt" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(Root, sentinel))!);
            File.WriteAllText(Path.Combine(Root, sentinel), "sentinel");
        }

        Factory = new WesApplicationFactory(workers: 0, dataDir: Path.Combine(Root, "data"), settings: new Dictionary<string, string?>
        {
            ["Wes:Limits:MaxRequestBodyBytes"] = MaxBody.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Wes:Limits:MaxFieldBytes"] = MaxField.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Wes:Limits:MaxAttachments"] = MaxAttachments.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Wes:Limits:MaxAttachmentBytes"] = MaxAttachmentBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        Http = Factory.CreateClient();
    }

    public string Root { get; }
    public WesApplicationFactory Factory { get; }
    public HttpClient Http { get; }

    /// <summary>Every path under the sentinel root except the database files, whose set depends on SQLite's journaling.</summary>
    public IReadOnlySet<string> Snapshot() =>
        Directory.EnumerateFileSystemEntries(Root, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Root, path))
            .Where(path => !Path.GetFileName(path).StartsWith("wes.db", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);

    public void AssertNothingWritten(string because, IReadOnlySet<string> before)
    {
        var now = Snapshot();
        Assert.True(now.SetEquals(before), $"{because}: the file tree changed: +[{string.Join(", ", now.Except(before))}] -[{string.Join(", ", before.Except(now))}]");
        var planted = Directory.EnumerateFileSystemEntries(Path.GetTempPath(), "*" + Marker + "*").ToList();
        Assert.True(planted.Count == 0, $"{because}: files appeared in the temp folder: {string.Join(", ", planted)}");
    }

    public async Task<int> CountRunsAsync() =>
        (await Factory.Service<RunStore>().ListAsync(null, 1000, null, CancellationToken.None)).Count;

    public void Dispose()
    {
        Http.Dispose();
        Factory.Dispose();
        TempDirectory.Delete(Root);
    }
}
