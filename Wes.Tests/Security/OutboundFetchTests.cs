using System.Net;
using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Security;
using Wes.Tests.Support;

namespace Wes.Tests.Security;

/// <summary>
/// The server fetches workflow_url only from public addresses unless allowed. Each test serves the workflow from a
/// listener on loopback, which must not be reached by default, and is reached once allowed.
/// </summary>
public sealed class OutboundFetchTests
{
    private static readonly string Hello = File.ReadAllText(Path.Combine(Examples.Root, "hello", "hello.cwl"));

    [Theory]
    [InlineData("8.8.8.8", AddressKind.Public)]
    [InlineData("2606:4700::1111", AddressKind.Public)]
    [InlineData("127.0.0.1", AddressKind.Internal)]
    [InlineData("127.255.0.9", AddressKind.Internal)]
    [InlineData("::1", AddressKind.Internal)]
    [InlineData("0.0.0.0", AddressKind.Internal)]
    [InlineData("::", AddressKind.Internal)]
    [InlineData("10.0.0.1", AddressKind.Private)]
    [InlineData("172.31.255.255", AddressKind.Private)]
    [InlineData("172.32.0.1", AddressKind.Public)]
    [InlineData("192.168.1.1", AddressKind.Private)]
    [InlineData("100.64.0.1", AddressKind.Private)]
    [InlineData("100.100.100.200", AddressKind.Internal)]
    [InlineData("169.254.169.254", AddressKind.Internal)]
    [InlineData("169.254.1.1", AddressKind.Internal)]
    [InlineData("fe80::1", AddressKind.Internal)]
    [InlineData("fd12:3456::1", AddressKind.Private)]
    [InlineData("fd00:ec2::254", AddressKind.Internal)]
    [InlineData("224.0.0.251", AddressKind.Internal)]
    [InlineData("ff02::1", AddressKind.Internal)]
    [InlineData("255.255.255.255", AddressKind.Internal)]
    [InlineData("::ffff:127.0.0.1", AddressKind.Internal)]
    [InlineData("::ffff:10.0.0.1", AddressKind.Private)]
    [InlineData("64:ff9b::a9fe:a9fe", AddressKind.Internal)]
    [InlineData("2002:7f00:1::", AddressKind.Internal)]
    [InlineData("2002:808:808::", AddressKind.Public)]
    public void SpecialAddresses_AreClassified(string address, AddressKind expected) =>
        Assert.Equal(expected, SpecialAddresses.Classify(IPAddress.Parse(address)).Kind);

    [Fact]
    public void AllowList_AndPrivateSwitch_OpenOnlyWhatTheySay()
    {
        var policy = Policy(new FetchOptions { AllowedHosts = "git.corp.test, *.lab.test, 10.9.0.0/16, 127.0.0.2", AllowPrivateNetworks = true });

        Assert.Null(policy.Refusal("git.corp.test", IPAddress.Parse("127.0.0.1")));
        Assert.Null(policy.Refusal("ci.lab.test", IPAddress.Parse("169.254.169.254")));
        Assert.Null(policy.Refusal("x", IPAddress.Parse("127.0.0.2")));
        Assert.Null(policy.Refusal("x", IPAddress.Parse("192.168.4.4")));
        Assert.Null(policy.Refusal("x", IPAddress.Parse("fd12::1")));
        Assert.NotNull(policy.Refusal("lab.test", IPAddress.Parse("127.0.0.1")));
        Assert.NotNull(policy.Refusal("x", IPAddress.Parse("127.0.0.1")));
        Assert.NotNull(policy.Refusal("x", IPAddress.Parse("169.254.169.254")));
        Assert.NotNull(policy.Refusal("x", IPAddress.Parse("fd00:ec2::254")));
        Assert.NotNull(Policy(new FetchOptions()).Refusal("x", IPAddress.Parse("10.9.1.1")));
    }

    [Fact]
    public async Task HostNameResolvingToLoopback_IsRefusedAtConnect_WithoutReachingIt()
    {
        using var listener = new LoopbackHttpServer(Hello);
        using var handler = new SocketsHttpHandler { ConnectCallback = Policy(new FetchOptions()).ConnectAsync, UseProxy = false };
        using var http = new HttpClient(handler);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(listener.LocalhostUrl("hello.cwl")));

        Assert.Contains("loopback", Wes.Providers.WorkflowFetcher.RefusalIn(error)!.Message, StringComparison.Ordinal);
        Assert.False(listener.WasReached);
    }

    [Fact]
    public async Task WorkflowUrlOnLoopback_EndsSystemErrorWithoutReachingIt()
    {
        using var listener = new LoopbackHttpServer(Hello);
        using var factory = new WesApplicationFactory(provider: "Local", workers: 1);
        using var client = factory.CreateWesClient();

        var runId = await client.SubmitAsync(new RunRequestBuilder().WithoutAttachments().With("workflow_url", listener.LocalhostUrl("hello.cwl")));

        Assert.Equal("SYSTEM_ERROR", await client.WaitForTerminalAsync(runId));
        var log = (await client.GetJsonAsync($"/runs/{runId}"))["run_log"]!["system_logs"]![0]!.GetValue<string>();
        Assert.StartsWith($"Refused to download workflow_url {listener.LocalhostUrl("hello.cwl")}: localhost resolves only to addresses it may not reach", log, StringComparison.Ordinal);
        Assert.Contains("WES_ALLOWED_FETCH_HOSTS", log, StringComparison.Ordinal);
        Assert.False(listener.WasReached);
    }

    [Fact]
    public async Task RedirectFromAnAllowedHostToLoopback_IsRefused()
    {
        using var target = new LoopbackHttpServer(Hello);
        using var redirector = new LoopbackHttpServer("", redirectTo: target.LocalhostUrl("hello.cwl"), address: "127.0.0.2");
        using var factory = new WesApplicationFactory(provider: "Local", workers: 1, settings: new Dictionary<string, string?> { ["Wes:Fetch:AllowedHosts"] = "127.0.0.2" });
        using var client = factory.CreateWesClient();

        var runId = await client.SubmitAsync(new RunRequestBuilder().WithoutAttachments().With("workflow_url", redirector.BaseUrl + "hello.cwl"));

        Assert.Equal("SYSTEM_ERROR", await client.WaitForTerminalAsync(runId));
        Assert.True(redirector.WasReached);
        Assert.False(target.WasReached);
        var log = (await client.GetJsonAsync($"/runs/{runId}"))["run_log"]!["system_logs"]![0]!.GetValue<string>();
        Assert.Contains("loopback", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowedHostName_IsReached()
    {
        using var listener = new LoopbackHttpServer(Hello);
        using var factory = new WesApplicationFactory(provider: "Local", workers: 1, settings: new Dictionary<string, string?> { ["WES_ALLOWED_FETCH_HOSTS"] = "localhost" });
        using var client = factory.CreateWesClient();

        var runId = await client.SubmitAsync(new RunRequestBuilder().WithoutAttachments().With("workflow_url", listener.LocalhostUrl("hello.cwl")));

        var state = await client.WaitForTerminalAsync(runId);
        Assert.True(state == "COMPLETE", (await client.GetJsonAsync($"/runs/{runId}")).ToJsonString());
        Assert.True(listener.WasReached);
    }

    private static OutboundAddressPolicy Policy(FetchOptions fetch) => new(Options.Create(new WesOptions { Fetch = fetch }));
}
