using System.Net;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>Many submissions at once, committed together in batches, keep the rules each one has alone.</summary>
public sealed class ConcurrentSubmissionTests : IDisposable
{
    private const int MaxQueued = 5;

    private readonly WesApplicationFactory _factory = new(workers: 0,
        settings: new Dictionary<string, string?> { ["Wes:Limits:MaxQueuedRunsPerUser"] = MaxQueued.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    public void Dispose() => _factory.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConcurrentSubmissions_AcceptExactlyTheQueueLimit(bool withAttachments)
    {
        using var client = _factory.CreateWesClient();
        var request = withAttachments
            ? new RunRequestBuilder().WithAttachment("data/input.txt", "input")
            : new RunRequestBuilder().WithoutAttachments().With("workflow_url", "https://example.com/workflows/hello.cwl");

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => request.SendAsync(client)));

        Assert.Equal(MaxQueued, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(40 - MaxQueued, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.Equal(MaxQueued, await client.CountRunsAsync());
        // Only the accepted runs keep a folder; the refused ones removed theirs.
        var folders = Directory.Exists(_factory.RunsDir) ? Directory.GetDirectories(_factory.RunsDir).Length : 0;
        Assert.Equal(withAttachments ? MaxQueued : 0, folders);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }
}
