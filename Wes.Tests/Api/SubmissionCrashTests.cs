using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Wes.Tests.Support;

namespace Wes.Tests.Api;

/// <summary>
/// A 200 to POST /runs is a promise: the real server, killed with SIGKILL while submissions pour in, still has every
/// run it answered after a restart, with every attached file as sent.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SubmissionCrashTests(PostgresServer postgres) : IDisposable
{
    private const int Submitters = 16;
    private const int AnswersBeforeTheKill = 150;

    private readonly string _dataDir = TempDirectory.Create("wes-crash");
    private readonly ConcurrentDictionary<string, Submitted> _answered = new();
    private readonly ConcurrentQueue<string> _refusals = new();
    private int _sent;

    public void Dispose() => TempDirectory.Delete(_dataDir);

    [Fact]
    public Task KillNine_RightAfterTheAnswers_EveryAnsweredRunSurvivesWithItsFiles_OnSqlite() => CrashAndRestartAsync(null);

    [Fact]
    public Task KillNine_RightAfterTheAnswers_EveryAnsweredRunSurvivesWithItsFiles_OnPostgres() => CrashAndRestartAsync(postgres.CreateDatabase());

    private async Task CrashAndRestartAsync(string? database)
    {
        var environment = new Dictionary<string, string>
        {
            ["WES_DATA_DIR"] = _dataDir, ["WES_DATABASE"] = database ?? "", ["DEFAULT_WES_PROVIDER"] = "Mock",
            // No executor: the runs stay exactly as submitted.
            ["WES_MAX_CONCURRENT_RUNS"] = "0", ["WES_MAX_QUEUED_PER_USER"] = "1000000",
        };
        using (var host = await HostProcess.StartAsync(environment))
        {
            using var client = new WesClient(new HttpClient { BaseAddress = new Uri(host.BaseUrl!) }, "/ga4gh/wes/v1");
            var submitters = Enumerable.Range(0, Submitters).Select(_ => SubmitUntilRefusedAsync(client)).ToList();
            await ProcessTable.WaitUntilAsync(() => _answered.Count >= AnswersBeforeTheKill, TimeSpan.FromSeconds(120),
                $"{AnswersBeforeTheKill} submissions were answered");

            host.Signal("KILL");

            await host.WaitForExitAsync(TimeSpan.FromSeconds(30));
            await Task.WhenAll(submitters);
        }

        Assert.Empty(_refusals);
        using var restarted = await HostProcess.StartAsync(environment);
        using var wes = new WesClient(new HttpClient { BaseAddress = new Uri(restarted.BaseUrl!) }, "/ga4gh/wes/v1");
        foreach (var (runId, submitted) in _answered)
        {
            var log = await wes.GetJsonAsync($"/runs/{runId}");
            Assert.Equal("QUEUED", log["state"]!.GetValue<string>());
            Assert.Equal(submitted.Number, log["request"]!["workflow_params"]!["n"]!.GetValue<int>());
            var exe = Path.Combine(_dataDir, "runs", runId, "exe");
            foreach (var (name, content) in submitted.Files)
            {
                Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(exe, name)));
            }
        }

        Assert.Contains(_answered.Values, s => s.Files.Count > 0);
        Assert.Contains(_answered.Values, s => s.Files.Count == 0);
    }

    /// <summary>Submits, half of them with attachments in subfolders, until the server stops answering.</summary>
    private async Task SubmitUntilRefusedAsync(WesClient client)
    {
        while (true)
        {
            var number = Interlocked.Increment(ref _sent);
            var (request, files) = Request(number);
            HttpResponseMessage response;
            try
            {
                response = await request.SendAsync(client);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return; // the server was killed
            }

            using (response)
            {
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    _refusals.Enqueue($"{(int)response.StatusCode} {body}");
                    return;
                }

                _answered[JsonNode.Parse(body)!["run_id"]!.GetValue<string>()] = new Submitted(number, files);
            }
        }
    }

    private static (RunRequestBuilder Request, IReadOnlyDictionary<string, byte[]> Files) Request(int number)
    {
        var request = new RunRequestBuilder().WithoutAttachments().With("workflow_params", $$"""{"n": {{number}}}""");
        if (number % 2 == 0)
        {
            return (request.With("workflow_url", "https://example.com/workflows/hello.cwl"), new Dictionary<string, byte[]>());
        }

        var files = new Dictionary<string, byte[]>
        {
            ["main.cwl"] = Examples.Bytes("hello/hello.cwl"),
            [$"data/deep/{number}.bin"] = Random.Shared.GetItems<byte>(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(), 10 * 1024),
        };
        foreach (var (name, content) in files)
        {
            request.WithAttachment(name, content);
        }

        return (request.With("workflow_url", "main.cwl"), files);
    }

    private sealed record Submitted(int Number, IReadOnlyDictionary<string, byte[]> Files);
}
