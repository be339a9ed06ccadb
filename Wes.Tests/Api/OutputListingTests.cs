using System.Diagnostics;
using System.Net;
using Wes.Api;
using Wes.Execution;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>
/// The output listing's walk and its keyset pages: the same order as sorting every path, pages that add up to the whole
/// list, and a first page that reads only the folders it needs.
/// </summary>
public sealed class OutputListingTests : IDisposable
{
    // Names around '/' in ordinal order ('-' and '.' sort before it, '0' after), so a walk sorted by bare folder
    // names would put "a/x" before "a-b/x" where sorting the full paths puts it after.
    private static readonly string[] TreeFiles =
    [
        "a/x", "a/y/z", "a-b/x", "a.txt", "a b/x", "a0", "ab/c/d", "a/.hidden", "Z", "é/x", "a-b/deeper/still/e",
    ];

    private readonly string _dir = TempDirectory.Create("wes-walk");

    public void Dispose() => TempDirectory.Delete(_dir);

    private static void CreateFiles(string root, IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            var full = Path.Combine(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, path);
        }
    }

    private static List<string> SortedOrdinal(IEnumerable<string> paths) => paths.Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void Walk_FollowsTheOrdinalOrderOfFullPaths()
    {
        CreateFiles(_dir, TreeFiles);

        var walked = new OutputWalk(_dir).After(null).Select(f => f.RelativePath).ToList();

        Assert.Equal(SortedOrdinal(TreeFiles), walked);
        Assert.True(walked.IndexOf("a-b/x") < walked.IndexOf("a/x"));
    }

    [Fact]
    public void Walk_AfterAnyPathGivesExactlyTheRestOfTheSortedList()
    {
        CreateFiles(_dir, TreeFiles);
        var sorted = SortedOrdinal(TreeFiles);

        for (var i = 0; i < sorted.Count; i++)
        {
            Assert.Equal(sorted[(i + 1)..], new OutputWalk(_dir).After(sorted[i]).Select(f => f.RelativePath));
        }

        // A position whose file was removed since still resumes where it was.
        Assert.Equal(sorted.Where(p => string.CompareOrdinal(p, "a-b/w") > 0), new OutputWalk(_dir).After("a-b/w").Select(f => f.RelativePath));
        Assert.Equal(sorted.Where(p => string.CompareOrdinal(p, "a/") > 0), new OutputWalk(_dir).After("a/").Select(f => f.RelativePath));
    }

    [Fact]
    public void Walk_ListsOnlyRegularFilesAndLinksToThemInsideWithoutEnteringLinkedFolders()
    {
        CreateFiles(_dir, ["data/file.txt"]);
        File.CreateSymbolicLink(Path.Combine(_dir, "link.txt"), Path.Combine(_dir, "data", "file.txt"));
        Directory.CreateSymbolicLink(Path.Combine(_dir, "loop"), _dir);
        File.CreateSymbolicLink(Path.Combine(_dir, "dangling"), Path.Combine(_dir, "missing"));
        using (var mkfifo = Process.Start("mkfifo", [Path.Combine(_dir, "fifo")]))
        {
            mkfifo.WaitForExit();
        }

        var walked = new OutputWalk(_dir).After(null).ToList();

        Assert.Equal(["data/file.txt", "link.txt"], walked.Select(f => f.RelativePath));
        Assert.Equal(Path.Combine(_dir, "data", "file.txt"), walked[1].FullPath);
        Assert.Equal("data/file.txt".Length, walked[1].Size);
        Assert.Equal(File.GetLastWriteTimeUtc(Path.Combine(_dir, "data", "file.txt")), walked[0].ModifiedUtc);
    }

    [Fact]
    public void Walk_FirstPageOfManyFilesReadsOnlyTheFoldersItNeeds()
    {
        // 20,000 files in 100 folders of 200: a page needs the top folder and the folders its files are in.
        for (var folder = 0; folder < 100; folder++)
        {
            var path = Directory.CreateDirectory(Path.Combine(_dir, $"f{folder:D3}")).FullName;
            for (var file = 0; file < 200; file++)
            {
                File.Create(Path.Combine(path, $"{file:D3}.dat")).Dispose();
            }
        }

        var first = new OutputWalk(_dir);
        var firstPage = first.After(null).Take(11).ToList();
        var later = new OutputWalk(_dir);
        var laterPage = later.After("f050/199.dat").Take(11).ToList();
        var full = new OutputWalk(_dir);
        var count = full.After(null).Count();

        Assert.Equal("f000/010.dat", firstPage[^1].RelativePath);
        Assert.Equal(100 + 200, first.EntriesRead);
        Assert.Equal("f051/010.dat", laterPage[^1].RelativePath);
        // The top folder, f050 (which holds the position) and f051; nothing else.
        Assert.Equal(100 + 200 + 200, later.EntriesRead);
        Assert.Equal(20_000, count);
        Assert.Equal(100 + 20_000, full.EntriesRead);
    }

    [Fact]
    public async Task Api_PagingToTheEndGivesExactlyTheFullSortedList()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder());
        CreateFiles(Path.Combine(factory.RunsDir, runId, "outputs"), TreeFiles);

        var paged = new List<string>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await client.GetJsonAsync($"/runs/{runId}/outputs?page_size=2&page_token={Uri.EscapeDataString(token)}");
            paged.AddRange(page["files"]!.AsArray().Select(f => f!["path"]!.GetValue<string>()));
            token = page["next_page_token"]!.GetValue<string>();
            pages++;
        }
        while (token != "" && pages <= TreeFiles.Length);

        Assert.Equal(SortedOrdinal(TreeFiles), paged);
        Assert.Equal((TreeFiles.Length + 1) / 2, pages);
    }

    [Fact]
    public async Task Api_RefusesATokenOfAnotherListingOrOfTheFormerNumberShape()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        using var client = factory.CreateWesClient();
        var runId = await client.SubmitAsync(new RunRequestBuilder());
        var other = await client.SubmitAsync(new RunRequestBuilder());
        var tokens = factory.Service<PageTokens>();
        var number = await tokens.CreateAsync("outputs:" + runId, 2, CancellationToken.None);
        var otherRun = await tokens.CreateAsync("outputs:" + other, "a.txt", CancellationToken.None);

        foreach (var token in new[] { number, otherRun, "not-a-token", new string('A', 10_000) })
        {
            using var response = await client.GetAsync($"/runs/{runId}/outputs?page_token={token}");
            await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        }
    }

    [Fact]
    public async Task PageTokens_CarryTextAndNumbersEachOnlyAsItself()
    {
        using var factory = new WesApplicationFactory(workers: 0);
        var tokens = factory.Service<PageTokens>();
        var longest = new string('é', PageTokens.MaxTextPositionBytes / 2);

        var text = await tokens.CreateAsync("scope", "dir/é file.txt", CancellationToken.None);
        var longText = await tokens.CreateAsync("scope", longest, CancellationToken.None);
        var number = await tokens.CreateAsync("scope", 12345, CancellationToken.None);

        Assert.Equal("dir/é file.txt", await tokens.ReadTextAsync("scope", text, CancellationToken.None));
        Assert.Equal(longest, await tokens.ReadTextAsync("scope", longText, CancellationToken.None));
        Assert.Equal(12345, await tokens.ReadAsync("scope", number, CancellationToken.None));
        await Assert.ThrowsAsync<ApiException>(() => tokens.ReadAsync("scope", text, CancellationToken.None));
        await Assert.ThrowsAsync<ApiException>(() => tokens.ReadTextAsync("scope", number, CancellationToken.None));
        await Assert.ThrowsAsync<ApiException>(() => tokens.ReadTextAsync("other", text, CancellationToken.None));
    }
}
