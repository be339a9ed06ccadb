using System.Net;
using System.Text.Json.Nodes;
using Wes.Configuration;
using Wes.Execution.Engines;
using Wes.Providers.Remote;
using Wes.Tests.Support;

namespace Wes.Tests.Providers.Remote;

/// <summary>Remotes as configured: checked at start-up by name, offered in service-info, picked by tag or by default.</summary>
public sealed class RemoteSettingsTests
{
    private static readonly IReadOnlyList<IWorkflowEngine> Registered =
        [new Wes.Execution.Engines.Cwltool.CwltoolEngine(), new Wes.Execution.Engines.Snakemake.SnakemakeEngine()];

    private static IReadOnlyList<string> Validate(string name, RemoteWesOptions remote, string defaultProvider = "Local")
    {
        var options = new WesOptions { DefaultProvider = defaultProvider };
        options.Remotes[name] = remote;
        var result = new WesOptionsValidator(Registered).Validate(null, options);
        return result.Failures?.ToList() ?? [];
    }

    [Fact]
    public void A_well_formed_remote_passes_and_may_be_the_default_provider() =>
        Assert.Empty(Validate("cromwell", new RemoteWesOptions
        {
            Url = "http://10.0.0.5:8000/api/ga4gh/wes/v1", WorkflowTypes = "WDL:1.0|draft-2,CWL", Engines = "cromwell:WDL|CWL",
        }, defaultProvider: "cromwell"));

    [Theory]
    [InlineData("1st", "must be named by a letter")]
    [InlineData("a-name-that-is-far-too-long-for-the-column", "must be named by a letter")]
    [InlineData("has space", "must be named by a letter")]
    [InlineData("local", "built-in provider")]
    public void A_remote_name_that_cannot_be_stored_or_clashes_is_refused_by_name(string name, string problem)
    {
        var failures = Validate(name, new RemoteWesOptions { Url = "http://remote:8080/ga4gh/wes/v1" });

        Assert.Contains(failures, f => f.StartsWith($"Wes:Remotes:{name} ", StringComparison.Ordinal) && f.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_bad_setting_of_a_remote_is_named()
    {
        var failures = Validate("toil", new RemoteWesOptions
        {
            Url = "ftp://user:pw@toil/", Token = "two words", PollSeconds = 0, TimeoutSeconds = 0, MaxCopyBytes = -1,
            WorkflowTypes = "CWL,WDL", Engines = "toil:NFL,bad/name",
        });

        foreach (var setting in new[] { ":Url ", ":Token ", ":PollSeconds ", ":TimeoutSeconds ", ":MaxCopyBytes " })
        {
            Assert.Contains(failures, f => f.StartsWith($"Wes:Remotes:toil{setting}", StringComparison.Ordinal));
        }

        Assert.Contains(failures, f => f.Contains("'WDL' without versions", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("runs NFL, which :WorkflowTypes does not list", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("'bad/name'", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("two words", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://remote:8080/ga4gh/wes/v1?tenant=a")]
    [InlineData("http://remote:8080/ga4gh/wes/v1#top")]
    public void A_remote_url_with_a_query_or_fragment_is_refused(string url) =>
        Assert.Contains(Validate("toil", new RemoteWesOptions { Url = url }), f => f.StartsWith("Wes:Remotes:toil:Url ", StringComparison.Ordinal));

    [Fact]
    public void A_workflow_types_entry_without_a_type_is_refused() =>
        Assert.Contains(Validate("toil", new RemoteWesOptions { Url = "http://remote:8080/ga4gh/wes/v1", WorkflowTypes = "CWL,:1.0" }),
            f => f.Contains("names no workflow type", StringComparison.Ordinal));

    [Fact]
    public void A_default_provider_naming_no_remote_lists_the_remotes_there_are()
    {
        var failures = Validate("cromwell", new RemoteWesOptions { Url = "http://c:8000/ga4gh/wes/v1", WorkflowTypes = "WDL:1.0" }, defaultProvider: "toil");

        Assert.Contains(failures, f => f.StartsWith("DEFAULT_WES_PROVIDER", StringComparison.Ordinal) && f.Contains("Local, Mock, Slurm, cromwell", StringComparison.Ordinal));
    }

    private static WesApplicationFactory ServerWithRemotes() => new(settings: new Dictionary<string, string?>
    {
        // Nothing listens there: these tests stop at submission and service-info.
        ["Wes:Remotes:cromwell:Url"] = $"http://127.0.0.1:{LocalHttpServer.FreePort()}/api/ga4gh/wes/v1",
        ["Wes:Remotes:cromwell:WorkflowTypes"] = "WDL:1.0|draft-2,CWL",
        ["Wes:Remotes:cromwell:Engines"] = "cromwell:WDL|CWL",
        ["Wes:Remotes:cromwell:TimeoutSeconds"] = "600",
        ["Wes:Remotes:cromwell:PollSeconds"] = "60",
    });

    [Fact]
    public async Task Service_info_lists_what_the_remotes_run_beside_the_local_engines_and_says_which_provider_runs_what()
    {
        using var server = ServerWithRemotes();
        using var client = server.CreateWesClient();

        var info = await client.GetJsonAsync("/service-info");

        SpecContract.AssertMatches(info, "ServiceInfo");
        Assert.Equal(["1.0", "draft-2"], info["workflow_type_versions"]!["WDL"]!["workflow_type_version"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.NotNull(info["workflow_engine_versions"]!["cromwell"]);
        Assert.Contains("cromwell", info["tags"]!["providers"]!.GetValue<string>(), StringComparison.Ordinal);
        var summary = info["tags"]!["provider:cromwell"]!.GetValue<string>();
        Assert.Contains("WDL 1.0|draft-2 (cromwell", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", info.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workflow_type_only_a_remote_runs_is_accepted_when_the_run_goes_there_and_refused_elsewhere()
    {
        using var server = ServerWithRemotes();
        using var client = server.CreateWesClient();
        RunRequestBuilder Wdl() => new RunRequestBuilder().WithoutAttachments()
            .With("workflow_type", "WDL").With("workflow_type_version", "1.0").With("workflow_url", "main.wdl")
            .With("workflow_engine_parameters", """{"backend": "slurm"}""").WithAttachment("main.wdl", "version 1.0\nworkflow w {}\n");

        var toRemote = await Wdl().WithTags("""{"wes.provider": "cromwell"}""").SendAsync(client);
        var toDefault = await Wdl().SendAsync(client);

        Assert.Equal(HttpStatusCode.OK, toRemote.StatusCode);
        var runId = JsonNode.Parse(await toRemote.Content.ReadAsStringAsync())!["run_id"]!.GetValue<string>();
        var log = await client.GetJsonAsync($"/runs/{runId}");
        Assert.Equal("WDL", log["request"]!["workflow_type"]!.GetValue<string>());
        var refused = await JsonAssert.ErrorAsync(toDefault, HttpStatusCode.BadRequest);
        Assert.Contains("workflow_type 'WDL' is not supported", refused["msg"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_provider_tag_naming_no_provider_lists_the_remotes_too()
    {
        using var server = ServerWithRemotes();
        using var client = server.CreateWesClient();

        var response = await new RunRequestBuilder().WithTags("""{"wes.provider": "toil"}""").SendAsync(client);

        var error = await JsonAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("cromwell, Mock", error["msg"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
