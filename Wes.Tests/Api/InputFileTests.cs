using System.Net;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>File references in workflow_params: attachments, http(s), and server files only under WES_ALLOWED_FILE_ROOTS.</summary>
public sealed class InputFileTests : IDisposable
{
    private readonly string _root = TempDirectory.Create("wes-inputs");
    private readonly string _outside = TempDirectory.Create("wes-not-allowed");

    public InputFileTests()
    {
        File.WriteAllText(Path.Combine(_root, "words.txt"), "alpha beta gamma\n");
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "secret\n");
        File.CreateSymbolicLink(Path.Combine(_root, "link-out.txt"), Path.Combine(_outside, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "dir-out"), _outside);
    }

    public void Dispose()
    {
        TempDirectory.Delete(_root);
        TempDirectory.Delete(_outside);
    }

    private WesApplicationFactory Factory(string provider = "Mock", int workers = 0, bool withRoot = true) =>
        new(provider: provider, workers: workers,
            settings: new Dictionary<string, string?> { ["Wes:AllowedFileRoots"] = withRoot ? _root : null });

    private static RunRequestBuilder Pipeline(string textFile) =>
        RunRequestBuilder.ForExample("pipeline", "workflow.cwl", "v1.2").With("workflow_params", $$"""{"text": {{textFile}}}""");

    public static TheoryData<string, string> Refused() => new()
    {
        { """{"class": "File", "location": "file:///etc/passwd"}""", "outside the folders" },
        { """{"class": "File", "path": "/etc/passwd"}""", "outside the folders" },
        { """{"class": "File", "location": "file://{outside}/secret.txt"}""", "outside the folders" },
        { """{"class": "File", "location": "file://{root}/../{outsideName}/secret.txt"}""", "outside the folders" },
        { """{"class": "File", "location": "file://{root}/link-out.txt"}""", "outside the folders" },
        { """{"class": "File", "location": "file://{root}/dir-out/secret.txt"}""", "outside the folders" },
        { """{"class": "File", "location": "file://{root}/missing.txt"}""", "does not exist" },
        { """{"class": "File", "path": "../../request.json"}""", "leaves the run's folder" },
        { """{"class": "File", "location": "data/../../x.txt"}""", "leaves the run's folder" },
        { """{"class": "File", "location": "s3://bucket/words.txt"}""", "scheme 's3' is not supported" },
        { """{"class": "Directory", "location": "ftp://example.com/dir"}""", "scheme 'ftp' is not supported" },
        { """ "file:///etc/passwd" """, "outside the folders" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task FileReferenceLeavingWhatIsAllowed_Is400(string reference, string expected)
    {
        using var factory = Factory();
        using var client = factory.CreateWesClient();
        var text = reference.Replace("{root}", _root, StringComparison.Ordinal).Replace("{outside}", _outside, StringComparison.Ordinal)
            .Replace("{outsideName}", Path.GetFileName(_outside), StringComparison.Ordinal);

        using var response = await Pipeline(text).SendAsync(client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await client.CountRunsAsync());
    }

    [Fact]
    public async Task ServerFile_IsRefusedWhenNoRootIsConfigured()
    {
        using var factory = Factory(withRoot: false);
        using var client = factory.CreateWesClient();

        using var response = await Pipeline($$"""{"class": "File", "location": "file://{{_root}}/words.txt"}""").SendAsync(client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("WES_ALLOWED_FILE_ROOTS is empty", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"class": "File", "path": "data/words.txt"}""")]
    [InlineData("""{"class": "File", "location": "https://8.8.8.8/words.txt"}""")]
    [InlineData("""{"class": "File", "location": "file://{root}/words.txt"}""")]
    [InlineData("""{"class": "File", "path": "{root}/words.txt"}""")]
    public async Task AllowedReference_IsAccepted(string reference)
    {
        using var factory = Factory();
        using var client = factory.CreateWesClient();

        await client.SubmitAsync(Pipeline(reference.Replace("{root}", _root, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task FileUnderAnAllowedRoot_IsReadByCwltool()
    {
        using var factory = Factory(provider: "Local", workers: 1);
        using var client = factory.CreateWesClient();

        var runId = await client.SubmitAsync(Pipeline($$"""{"class": "File", "location": "file://{{_root}}/words.txt"}"""));

        Assert.Equal("COMPLETE", await client.WaitForTerminalAsync(runId));
        var count = (await client.GetJsonAsync($"/runs/{runId}"))["outputs"]!["count"]!["path"]!.GetValue<string>();
        Assert.Equal("3", (await File.ReadAllTextAsync(count)).Trim());
    }

    [Fact]
    public void AllowedRootThatDoesNotExist_StopsTheServerNamingTheSetting()
    {
        var settings = new Wes.Configuration.WesOptions { AllowedFileRoots = $"{_root}:relative/dir:/no/such/folder" };

        var result = new Wes.Configuration.WesOptionsValidator().Validate(null, settings);

        Assert.True(result.Failed);
        Assert.Equal(2, result.Failures!.Count(f => f.StartsWith("WES_ALLOWED_FILE_ROOTS (Wes:AllowedFileRoots)", StringComparison.Ordinal)));
    }
}
