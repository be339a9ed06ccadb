using System.Net;
using Wes.Security;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>
/// Input URLs are fetched by the engine, not through the server's checked connections, so their host names are
/// resolved when the run is submitted: a name for this host, one that resolves to a refused address, or one that
/// does not resolve gets a 400 and nothing is stored; public addresses and allowed names are accepted.
/// </summary>
public sealed class InputHostTests
{
    private static WesApplicationFactory Factory(string? allowedHosts = null) =>
        new(workers: 0, settings: new Dictionary<string, string?> { ["Wes:Fetch:AllowedHosts"] = allowedHosts });

    private static RunRequestBuilder CwlInput(string url) =>
        new RunRequestBuilder().With("workflow_params", $$$"""{"message": "hi", "in": {"class": "File", "location": "{{{url}}}"}}""");

    private static RunRequestBuilder SnakemakeConfig(string json) =>
        new RunRequestBuilder().WithoutAttachments().With("workflow_type", "SMK").With("workflow_type_version", "1.0")
            .With("workflow_url", "Snakefile").WithAttachment("Snakefile", "rule all:\n    shell: 'true'\n").With("workflow_params", json);

    private static async Task<string> RefusedAsync(WesApplicationFactory factory, RunRequestBuilder request)
    {
        using var client = factory.CreateWesClient();
        using var response = await request.SendAsync(client);
        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(0, await client.CountRunsAsync());
        return error["msg"]!.GetValue<string>();
    }

    [Theory]
    [InlineData("http://localhost:8080/x.txt", "'localhost' names this host itself")]
    [InlineData("http://LOCALHOST.:8080/x.txt", "'localhost' names this host itself")]
    [InlineData("https://db.localhost/x.txt", "'db.localhost' names this host itself")]
    public async Task LocalhostNames_AreRefusedWithoutAskingDns(string url, string expected)
    {
        using var factory = Factory();

        var message = await RefusedAsync(factory, CwlInput(url));

        Assert.Contains($"workflow_params.in.location is refused: {expected}", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocalhostInput_IsNotFetchedByTheEngine()
    {
        using var listener = new LoopbackHttpServer("secret");
        using var factory = Factory();

        await RefusedAsync(factory, CwlInput(listener.LocalhostUrl("secret.txt")));

        Assert.False(listener.WasReached);
    }

    [Fact]
    public async Task NameResolvingToAHostAddress_IsRefused()
    {
        // The machine's own name resolves to a loopback address (/etc/hosts) or to its private interface address.
        var name = Dns.GetHostName();
        var addresses = await Dns.GetHostAddressesAsync(name);
        Assert.True(addresses.Length > 0 && addresses.All(a => SpecialAddresses.Classify(a).Kind != AddressKind.Public),
            $"this test needs the host name '{name}' to resolve to loopback or private addresses only; it resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}");
        using var factory = Factory();

        var message = await RefusedAsync(factory, CwlInput($"http://{name}:8080/x.txt"));

        Assert.Contains($"workflow_params.in.location is refused: '{name.ToLowerInvariant()}' resolves to a refused address ({addresses[0]} is ", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NameThatDoesNotResolve_IsRefused()
    {
        using var factory = Factory();

        // .invalid never resolves (RFC 6761).
        var message = await RefusedAsync(factory, CwlInput("https://inputs.invalid/x.txt"));

        Assert.Contains("workflow_params.in.location is refused: its host name 'inputs.invalid'", message, StringComparison.Ordinal);
        Assert.Contains("WES_ALLOWED_FETCH_HOSTS", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://a..b/x.txt")]
    [InlineData("http://%6c%6fcalhost/x.txt")]
    [InlineData("http://./x.txt")]
    public async Task UrlThatDoesNotParse_IsNotTakenForARelativePath(string url)
    {
        using var factory = Factory();

        var message = await RefusedAsync(factory, CwlInput(url));

        Assert.Contains($"workflow_params.in.location: '{url}' is not a valid URL.", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TooManyHostNames_AreRefusedBeforeAnyLookup()
    {
        using var factory = Factory();
        var files = string.Join(", ", Enumerable.Range(0, InputHostCheck.MaxNames + 1).Select(i => $$"""{"class": "File", "location": "https://h{{i}}.invalid/x"}"""));

        var message = await RefusedAsync(factory, new RunRequestBuilder().With("workflow_params", $$"""{"in": [{{files}}]}"""));

        Assert.Contains($"{InputHostCheck.MaxNames + 1} different host names", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryHttpString_OfASnakemakeConfig_IsChecked()
    {
        using var factory = Factory();

        var message = await RefusedAsync(factory, SnakemakeConfig("""{"samples": {"a": "http://localhost:9000/a.fq"}}"""));

        Assert.Contains("workflow_params.samples.a is refused", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DocumentationAddressLiteral_IsRefused()
    {
        using var factory = Factory();

        var message = await RefusedAsync(factory, CwlInput("http://192.0.2.10/x.txt"));

        Assert.Contains("192.0.2.10 is a documentation (TEST-NET) address", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("198.51.100.7")]
    [InlineData("203.0.113.255")]
    [InlineData("2001:db8::1")]
    public void DocumentationRanges_AreSpecial(string address) =>
        Assert.Equal(AddressKind.Internal, SpecialAddresses.Classify(IPAddress.Parse(address)).Kind);

    [Theory]
    [InlineData(null, "https://8.8.8.8/words.txt")]
    [InlineData(null, "https://[2606:4700::1111]/words.txt")]
    [InlineData("data.example.org", "https://data.example.org/words.txt")]
    [InlineData("*.example.org", "https://eu.data.example.org/words.txt")]
    [InlineData("localhost", "http://localhost:8080/words.txt")]
    public async Task PublicAddressOrAllowedName_IsAccepted(string? allowedHosts, string url)
    {
        // Allowed names are not looked up, so this passes without DNS too.
        using var factory = Factory(allowedHosts);
        using var client = factory.CreateWesClient();

        await client.SubmitAsync(CwlInput(url));
    }

    [Fact]
    public async Task HostNameInAPlainCwlString_IsTheWorkflowsBusiness()
    {
        using var factory = Factory();
        using var client = factory.CreateWesClient();

        await client.SubmitAsync(new RunRequestBuilder().With("workflow_params", """{"message": "http://localhost:8080/status"}"""));
    }
}
