using System.IO.Compression;
using System.Net;
using System.Text;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>Zip attachments named in the "wes.unpack" tag: unpacked in place, or the whole request refused.</summary>
public sealed class UnpackTests : IDisposable
{
    private readonly WesApplicationFactory _factory = new(workers: 0,
        settings: new Dictionary<string, string?> { ["Wes:UnpackMaxBytes"] = "5000", ["Wes:UnpackMaxEntries"] = "5" });
    private readonly WesClient _client;

    public UnpackTests() => _client = _factory.CreateWesClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    private static byte[] Zip(params (string Name, string Content)[] entries) => Zip(entries.Select(e => (e.Name, e.Content, 0)).ToArray());

    private static byte[] Zip((string Name, string Content, int UnixMode)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content, mode) in entries)
            {
                var entry = archive.CreateEntry(name);
                if (mode != 0)
                {
                    entry.ExternalAttributes = mode << 16;
                }

                using var writer = new StreamWriter(entry.Open(), Encoding.UTF8);
                writer.Write(content);
            }
        }

        return buffer.ToArray();
    }

    private static RunRequestBuilder WithZip(byte[] zip, string name = "inputs/bundle.zip", string tag = "inputs/bundle.zip") =>
        new RunRequestBuilder().WithAttachment(name, zip).WithTags($$"""{"wes.unpack": "{{tag}}"}""");

    [Fact]
    public async Task NamedZip_IsUnpackedIntoItsOwnFolder()
    {
        var zip = Zip(("a.txt", "alpha"), ("nested/", ""), ("nested/deeper/b.txt", "beta"));

        var runId = await _client.SubmitAsync(WithZip(zip));

        var exe = Path.Combine(_factory.RunsDir, runId, "exe");
        Assert.Equal("alpha", await File.ReadAllTextAsync(Path.Combine(exe, "inputs", "a.txt")));
        Assert.Equal("beta", await File.ReadAllTextAsync(Path.Combine(exe, "inputs", "nested", "deeper", "b.txt")));
        Assert.Equal(zip, await File.ReadAllBytesAsync(Path.Combine(exe, "inputs", "bundle.zip")));
        Assert.Equal("inputs/bundle.zip", (await _client.GetJsonAsync($"/runs/{runId}"))["request"]!["tags"]!["wes.unpack"]!.GetValue<string>());
    }

    [Fact]
    public async Task ZipNotNamedInTheTag_StaysPacked()
    {
        var runId = await _client.SubmitAsync(new RunRequestBuilder().WithAttachment("bundle.zip", Zip(("a.txt", "alpha"))));

        Assert.False(File.Exists(Path.Combine(_factory.RunsDir, runId, "exe", "a.txt")));
    }

    public static TheoryData<string, byte[], string> BadZips() => new()
    {
        { "zip-slip", Zip(("../evil.txt", "x")), "parent folder" },
        { "deep zip-slip", Zip(("ok/../../../evil.txt", "x")), "parent folder" },
        { "absolute entry", Zip(("/tmp/evil.txt", "x")), "absolute path" },
        { "backslash entry", Zip(("..\\evil.txt", "x")), "backslash" },
        { "symbolic link", Zip([("link", "/etc/passwd", 0xA1FF)]), "symbolic link" },
        { "too many entries", Zip(Enumerable.Range(0, 6).Select(i => ($"f{i}.txt", "x")).ToArray()), "entries; the limit is 5" },
        { "too many bytes", Zip(("big.txt", new string('x', 6000))), "Wes:UnpackMaxBytes" },
        { "too many bytes together", Zip(("a.txt", new string('x', 3000)), ("b.txt", new string('x', 3000))), "Wes:UnpackMaxBytes" },
        { "overwrites an attachment", Zip(("../hello.cwl", "x")), "parent folder" },
        { "same name twice", Zip(("a.txt", "x"), ("./a.txt", "y")), "would overwrite" },
        { "not a zip", Encoding.UTF8.GetBytes("just text"), "not a readable zip" },
    };

    [Theory]
    [MemberData(nameof(BadZips))]
    public async Task BadZip_Is400AndStoresNothing(string because, byte[] zip, string expected)
    {
        using var response = await WithZip(zip).SendAsync(_client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(await _client.CountRunsAsync() == 0, because);
        Assert.Empty(Directory.Exists(_factory.RunsDir) ? Directory.GetFileSystemEntries(_factory.RunsDir) : []);
        Assert.False(File.Exists(Path.Combine(_factory.RunsDir, "evil.txt")));
    }

    [Fact]
    public async Task EntryThatWouldReplaceAnAttachment_Is400()
    {
        using var response = await WithZip(Zip(("hello.cwl", "replaced")), name: "bundle.zip", tag: "bundle.zip").SendAsync(_client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("would overwrite 'hello.cwl'", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing.zip")]
    [InlineData("hello.cwl")]
    public async Task TagNamingNoZipAttachment_Is400(string tag)
    {
        using var response = await WithZip(Zip(("a.txt", "x")), tag: tag).SendAsync(_client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("must name a .zip file among the attachments", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
