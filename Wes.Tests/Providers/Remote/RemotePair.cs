using System.Text.Json.Nodes;
using Wes.Tests.Support;

namespace Wes.Tests.Providers.Remote;

/// <summary>
/// Two real servers on loopback: a remote that runs cwltool, and a front that forwards its runs there as the remote
/// named "other". Each keeps its data folder and port across restarts.
/// </summary>
public sealed class RemotePair : IAsyncDisposable
{
    public const string RemoteName = "other";
    private readonly string _frontDir = TempDirectory.Create("wes-front");
    private readonly string _remoteDir = TempDirectory.Create("wes-remote");

    public string FrontUrl { get; } = $"http://127.0.0.1:{LocalHttpServer.FreePort()}";
    public string RemoteUrl { get; } = $"http://127.0.0.1:{LocalHttpServer.FreePort()}";
    public HostProcess? Front { get; private set; }
    public HostProcess? Remote { get; private set; }

    /// <summary>Settings of the front; tests change them before starting it.</summary>
    public Dictionary<string, string> FrontSettings { get; }

    public RemotePair(double timeoutSeconds = 30)
    {
        FrontSettings = new Dictionary<string, string>
        {
            ["WES_DATA_DIR"] = _frontDir, ["DEFAULT_WES_PROVIDER"] = RemoteName, ["WES_MAX_ATTEMPTS"] = "1",
            ["WORKFLOW_POLL_INTERVAL"] = "0.2", ["WES_LEASE_SECONDS"] = "3", ["WES_SHUTDOWN_GRACE"] = "0",
            ["WES_PUBLIC_BASE_URL"] = FrontUrl,
            [$"Wes__Remotes__{RemoteName}__Url"] = RemoteUrl + "/ga4gh/wes/v1",
            [$"Wes__Remotes__{RemoteName}__PollSeconds"] = "0.2",
            [$"Wes__Remotes__{RemoteName}__TimeoutSeconds"] = timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"Wes__Remotes__{RemoteName}__WorkflowTypes"] = "CWL",
            [$"Wes__Remotes__{RemoteName}__Engines"] = "cwltool",
        };
    }

    public async Task<WesClient> StartFrontAsync()
    {
        Front = await HostProcess.StartAtAsync(FrontUrl, FrontSettings);
        return Client(FrontUrl);
    }

    public async Task<WesClient> StartRemoteAsync()
    {
        Remote = await HostProcess.StartAtAsync(RemoteUrl, new Dictionary<string, string>
        {
            ["WES_DATA_DIR"] = _remoteDir, ["DEFAULT_WES_PROVIDER"] = "Local", ["WES_MAX_ATTEMPTS"] = "1",
            ["WORKFLOW_POLL_INTERVAL"] = "0.2", ["WES_LEASE_SECONDS"] = "3", ["WES_SHUTDOWN_GRACE"] = "0", ["Wes__KillGraceSeconds"] = "1",
        });
        return Client(RemoteUrl);
    }

    public static WesClient Client(string baseUrl) => new(new HttpClient { BaseAddress = new Uri(baseUrl) }, "/ga4gh/wes/v1");

    /// <summary>The remote run id the front recorded for its run (from its system log).</summary>
    public static async Task<string> RemoteRunIdAsync(WesClient front, string runId)
    {
        var marker = $"runs this run's work as wes-remote:{RemoteName}:";
        string? line = null;
        await ProcessTable.WaitUntilAsync(async () =>
        {
            var logs = (await front.GetJsonAsync($"/runs/{runId}"))["run_log"]!["system_logs"]!.AsArray();
            line = logs.Select(l => l!.GetValue<string>()).FirstOrDefault(l => l.Contains(marker, StringComparison.Ordinal));
            return line is not null;
        }, TimeSpan.FromSeconds(60), "the front records the remote run id");
        var found = line!;
        return found[(found.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].TrimEnd('.');
    }

    /// <summary>A workflow that sleeps <paramref name="seconds"/> and then writes a file, attached in a subfolder.</summary>
    public static RunRequestBuilder SleepThenWrite(int seconds) => new RunRequestBuilder().WithoutAttachments()
        .With("workflow_url", "wf/nap.cwl").With("workflow_type_version", "v1.2")
        .With("workflow_params", new JsonObject { ["seconds"] = seconds }.ToJsonString())
        .WithAttachment("wf/nap.cwl", """
            cwlVersion: v1.2
            class: CommandLineTool
            baseCommand: [sh, -c]
            arguments: ["sleep $(inputs.seconds); echo rested > rested.txt"]
            inputs:
              seconds: int
            outputs:
              rested:
                type: File
                outputBinding: {glob: rested.txt}
            """);

    public ValueTask DisposeAsync()
    {
        Front?.Dispose();
        Remote?.Dispose();
        TempDirectory.Delete(_frontDir);
        TempDirectory.Delete(_remoteDir);
        return ValueTask.CompletedTask;
    }
}
