using System.Net;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>
/// Every request of the hostile corpus gets its 4xx ErrorResponse, stores no run, writes nothing anywhere, leaks no
/// server path or stack trace, and leaves the server answering.
/// </summary>
public sealed class HostileRequestTests(HostileServer server, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<HostileServer>
{
    public static TheoryData<string> CaseNames() => [.. HostileRequestCorpus.Cases.Keys];

    [Fact]
    public void Corpus_HasAtLeastAHundredCases() => Assert.True(HostileRequestCorpus.Cases.Count >= 100, $"{HostileRequestCorpus.Cases.Count} cases");

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task HostileRequest_IsRefusedCleanly(string name)
    {
        var (status, build) = HostileRequestCorpus.Cases[name];
        using var request = build();
        var before = server.Snapshot();
        var runs = await server.CountRunsAsync();

        using var response = await server.Http.SendAsync(request);

        var error = await JsonAssert.ErrorAsync(response, status);
        var msg = error["msg"]!.GetValue<string>();
        output.WriteLine(msg);
        Assert.DoesNotContain(server.Root, msg, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetTempPath() + "ASPNETCORE", msg, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Wes.", msg, StringComparison.Ordinal);
        Assert.DoesNotContain(" at System.", msg, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", msg, StringComparison.Ordinal);
        Assert.Equal(runs, await server.CountRunsAsync());
        server.AssertNothingWritten(name, before);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/ga4gh/wes/v1/service-info")).StatusCode);
    }
}
