using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Wes.Bench;

/// <summary>The few WES calls the scenarios make, with JSON read through System.Text.Json in the spec's snake_case.</summary>
internal sealed class WesClient(Uri apiBase) : IDisposable
{
    /// <summary>States after which a run never changes again (WES 1.1 plus this server's transition table).</summary>
    public static readonly string[] TerminalStates = ["COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED", "PREEMPTED"];

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    // No client-side timeout: the scenario's --timeout token bounds every call, and a timed-out request is a result.
    private readonly HttpClient http = new(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = apiBase, Timeout = Timeout.InfiniteTimeSpan };

    public static bool IsTerminal(string state) => TerminalStates.Contains(state);

    /// <summary>RUNNING, or any state a run can only reach after it has been running.</summary>
    public static bool IsRunningOrLater(string state) => state is "RUNNING" or "PAUSED" or "CANCELING" || IsTerminal(state);

    /// <summary>POST /runs; returns the run id or throws with the server's answer.</summary>
    public async Task<string> SubmitAsync(HttpContent content, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync("runs", content, cancellationToken);
        await EnsureOkAsync(response, "POST runs", cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<IdResponse>(Json, cancellationToken);
        return body?.RunId ?? throw new BenchException("POST runs answered 200 without a run_id.");
    }

    public async Task<string> GetStateAsync(string runId, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"runs/{runId}/status", cancellationToken);
        await EnsureOkAsync(response, $"GET runs/{runId}/status", cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<StatusResponse>(Json, cancellationToken);
        return body?.State ?? throw new BenchException($"GET runs/{runId}/status answered without a state.");
    }

    /// <summary>Every run's state, read page by page through next_page_token.</summary>
    public Task<Dictionary<string, string>> ListStatesAsync(int pageSize, CancellationToken cancellationToken) =>
        ListStatesAsync(pageSize, null, cancellationToken);

    /// <summary>
    /// Runs' states newest first, page by page, stopping once every run in <paramref name="wanted"/> has been seen:
    /// the newest runs cost a few pages however many older ones the database holds.
    /// </summary>
    public async Task<Dictionary<string, string>> ListStatesAsync(int pageSize, IReadOnlySet<string>? wanted, CancellationToken cancellationToken)
    {
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        var token = "";
        do
        {
            var path = $"runs?page_size={pageSize}" + (token.Length > 0 ? "&page_token=" + Uri.EscapeDataString(token) : "");
            using var response = await http.GetAsync(path, cancellationToken);
            await EnsureOkAsync(response, "GET " + path, cancellationToken);
            var page = await response.Content.ReadFromJsonAsync<ListResponse>(Json, cancellationToken)
                ?? throw new BenchException($"GET {path} answered with an empty body.");
            foreach (var run in page.Runs)
            {
                states[run.RunId] = run.State;
            }

            token = page.NextPageToken ?? "";
            if (wanted is not null && wanted.All(states.ContainsKey))
            {
                break;
            }
        }
        while (token.Length > 0);
        return states;
    }

    /// <summary>Why a run ended as it did: its system_logs, or where to look.</summary>
    public async Task<string> DescribeAsync(string runId, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"runs/{runId}", cancellationToken);
        var log = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<LogResponse>(Json, cancellationToken) : null;
        var lines = log?.RunLog?.SystemLogs ?? [];
        return lines.Count > 0 ? string.Join(" / ", lines) : $"see GET runs/{runId} and runs/{runId}/stderr";
    }

    /// <summary>A GET whose body is read in full, as a real client would; returns the status code.</summary>
    public async Task<HttpStatusCode> GetStatusCodeAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        return response.StatusCode;
    }

    public void Dispose() => http.Dispose();

    private static async Task EnsureOkAsync(HttpResponseMessage response, string request, CancellationToken cancellationToken)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new BenchException($"{request} answered {(int)response.StatusCode}: {body}");
        }
    }

    private sealed record IdResponse(string RunId);

    private sealed record StatusResponse(string RunId, string State);

    private sealed record RunSummary(string RunId, string State);

    private sealed record ListResponse(IReadOnlyList<RunSummary> Runs, string? NextPageToken);

    private sealed record LogEntry(IReadOnlyList<string>? SystemLogs);

    private sealed record LogResponse(string RunId, string State, LogEntry? RunLog);
}
