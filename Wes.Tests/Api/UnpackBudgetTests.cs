using System.IO.Compression;
using System.Net;
using System.Text;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>
/// The unpack limits hold for a whole request, however many zips it names; and a zip that fails to unpack is refused
/// with its own name only, the server path behind the failure going to the log.
/// </summary>
public sealed class UnpackBudgetTests : IDisposable
{
    private readonly CapturingLoggerProvider _log = new();
    private readonly WesApplicationFactory _factory;
    private readonly WesClient _client;

    public UnpackBudgetTests()
    {
        _factory = new WesApplicationFactory(workers: 0, services: _log.AddTo,
            settings: new Dictionary<string, string?> { ["Wes:UnpackMaxBytes"] = "5000", ["Wes:UnpackMaxEntries"] = "5" });
        _client = _factory.CreateWesClient();
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
        _log.Dispose();
    }

    [Fact]
    public async Task ZipsThatEachFitButTogetherWriteTooManyBytes_Are400()
    {
        // Three zips of 2,000 bytes each: every one fits in 5,000 bytes, the three together do not.
        var request = WithZips(Enumerable.Range(0, 3).Select(i => ($"z{i}.zip", Zip(($"f{i}.txt", new string('x', 2000))))).ToArray());

        using var response = await request.SendAsync(_client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("wes.unpack: 'z2.zip' takes the request past 5000 unpacked bytes, the limit for all its zips together (Wes:UnpackMaxBytes).",
            error["msg"]!.GetValue<string>());
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task ZipsThatEachFitButTogetherHaveTooManyEntries_Are400_FoldersCounted()
    {
        // Three entries each, two of them folders in the second zip: six entries unpacked against a limit of five.
        var request = WithZips(
            ("a.zip", Zip(("a1.txt", "x"), ("a2.txt", "x"), ("a3.txt", "x"))),
            ("b.zip", Zip(("d/", ""), ("d/e/", ""), ("d/e/b.txt", "x"))));

        using var response = await request.SendAsync(_client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("wes.unpack: 'b.zip' has 3 entries; with the 3 unpacked from the request's other zips, that is over the limit of 5 (Wes:UnpackMaxEntries).",
            error["msg"]!.GetValue<string>());
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task ZipsThatTogetherReachTheLimitsExactly_AreUnpacked()
    {
        var request = WithZips(
            ("a.zip", Zip(("d/", ""), ("d/a.txt", new string('a', 2500)))),
            ("b.zip", Zip(("b1.txt", new string('b', 2500)), ("b2.txt", ""), ("b3.txt", ""))));

        var runId = await _client.SubmitAsync(request);

        var exe = Path.Combine(_factory.RunsDir, runId, "exe");
        Assert.Equal(2500, new FileInfo(Path.Combine(exe, "d", "a.txt")).Length);
        Assert.Equal(2500, new FileInfo(Path.Combine(exe, "b1.txt")).Length);
    }

    [Fact]
    public async Task ZipThatCannotBeWritten_Is400NamingOnlyTheAttachment_AndTheServerPathIsLogged()
    {
        // "a.txt" is a file, so "a.txt/b.txt" cannot be created: the I/O error's own message names the staging folder.
        var request = WithZips(("inputs/bundle.zip", Zip(("a.txt", "x"), ("a.txt/b.txt", "y"))));

        using var response = await request.SendAsync(_client);

        var body = await response.Content.ReadAsStringAsync();
        var message = JsonAssert.Error(body, 400)["msg"]!.GetValue<string>();
        Assert.StartsWith("wes.unpack: 'inputs/bundle.zip' could not be unpacked", message, StringComparison.Ordinal);
        Assert.DoesNotContain(_factory.DataDir, body, StringComparison.Ordinal);
        Assert.DoesNotContain(".staging", body, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_factory.RunsDir, ".staging-"), _log.Text, StringComparison.Ordinal);
        await AssertNothingStoredAsync();
    }

    private async Task AssertNothingStoredAsync()
    {
        Assert.Equal(0, await _client.CountRunsAsync());
        Assert.Empty(Directory.Exists(_factory.RunsDir) ? Directory.GetFileSystemEntries(_factory.RunsDir) : []);
    }

    private static RunRequestBuilder WithZips(params (string Name, byte[] Zip)[] zips)
    {
        var builder = new RunRequestBuilder().WithTags($$"""{"wes.unpack": "{{string.Join(", ", zips.Select(z => z.Name))}}"}""");
        foreach (var (name, zip) in zips)
        {
            builder.WithAttachment(name, zip);
        }

        return builder;
    }

    private static byte[] Zip(params (string Name, string Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                var entry = archive.CreateEntry(name);
                if (!name.EndsWith('/'))
                {
                    using var writer = new StreamWriter(entry.Open(), new UTF8Encoding(false));
                    writer.Write(content);
                }
            }
        }

        return buffer.ToArray();
    }
}
