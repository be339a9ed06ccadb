using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Wes.Runs;

namespace Wes.Providers.Remote;

/// <summary>A call to a remote that failed: <see cref="StatusCode"/> is what it answered, or null when it could not be reached.</summary>
public sealed class RemoteWesException(string message, int? statusCode = null, Exception? inner = null) : Exception(message, inner)
{
    public int? StatusCode { get; } = statusCode;

    /// <summary>A 4xx other than 408 and 429: asking again will get the same answer.</summary>
    public bool IsRefusal => StatusCode is >= 400 and < 500 and not 408 and not 429;
}

/// <summary>
/// The WES calls made to one remote, over its own resilient HttpClient (retries with jitter, a circuit breaker and
/// timeouts, see <see cref="RemoteWesExtensions"/>). Every failure is a <see cref="RemoteWesException"/> naming the remote.
/// </summary>
public sealed class RemoteWesClient(string name, RemoteWesOptions options, HttpClient http)
{
    public const string HttpClientPrefix = "wes-remote:";

    /// <summary>With a trailing slash, so relative references ("runs/x") resolve below the base path.</summary>
    public Uri BaseUrl { get; } = new(options.Url!.TrimEnd('/') + "/");

    public string Name => name;

    public async Task<string> SubmitAsync(HttpContent form, string idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl, "runs")) { Content = form };
        // This server answers a repeated key with the first run; a remote that ignores the header does no harm.
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        var body = await SendAsync(request, cancellationToken);
        return RemoteWesAnswers.RunId(body) is { Length: > 0 } runId
            ? runId
            : throw new RemoteWesException($"{Describe()} accepted POST {request.RequestUri} but answered no run_id: {RemoteWesAnswers.ErrorMessage(body)}");
    }

    public async Task<RunState> GetStatusAsync(string runId, CancellationToken cancellationToken) =>
        RemoteWesAnswers.Status(await GetAsync($"runs/{Uri.EscapeDataString(runId)}/status", cancellationToken));

    public async Task<RemoteRunLog> GetRunLogAsync(string runId, CancellationToken cancellationToken) =>
        RemoteWesAnswers.RunLog(await GetAsync($"runs/{Uri.EscapeDataString(runId)}", cancellationToken));

    public async Task<RemotePage<(string RunId, RunState State)>> ListRunsAsync(int pageSize, string? pageToken, CancellationToken cancellationToken) =>
        RemoteWesAnswers.Runs(await GetAsync($"runs?page_size={pageSize}" + Token(pageToken), cancellationToken));

    /// <summary>GET /runs/{id}/tasks; null when the remote has no such endpoint (WES 1.0 keeps task_logs in the run log).</summary>
    public async Task<RemotePage<RemoteLog>?> ListTasksAsync(string runId, string? pageToken, CancellationToken cancellationToken) =>
        await OptionalAsync(async () => RemoteWesAnswers.Tasks(await GetAsync($"runs/{Uri.EscapeDataString(runId)}/tasks?page_size=500" + Token(pageToken), cancellationToken)));

    /// <summary>The output listing of this server's kind of remote; null when the remote has none.</summary>
    public async Task<RemotePage<RemoteOutputFile>?> ListOutputsAsync(string runId, string? pageToken, CancellationToken cancellationToken) =>
        await OptionalAsync(async () => RemoteWesAnswers.Outputs(await GetAsync($"runs/{Uri.EscapeDataString(runId)}/outputs?page_size=500" + Token(pageToken), cancellationToken)));

    public async Task CancelAsync(string runId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl, $"runs/{Uri.EscapeDataString(runId)}/cancel"));
        await SendAsync(request, cancellationToken);
    }

    public async Task<RemoteServiceInfo> GetServiceInfoAsync(CancellationToken cancellationToken) =>
        RemoteWesAnswers.ServiceInfo(await GetAsync("service-info", cancellationToken));

    /// <summary>Copies one file to <paramref name="target"/>, at most <paramref name="maxBytes"/>; answers the bytes written and whether it was cut.</summary>
    public async Task<(long Bytes, bool Cut)> DownloadAsync(Uri url, string target, long maxBytes, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await ThrowUnlessSuccessAsync(request, response, cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await using var source = await response.Content.ReadAsStreamAsync(cancellationToken);
        // A link an earlier copy left is replaced, never written through.
        await using var file = Execution.SafeFiles.CreateNew(target);
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while (total < maxBytes && (read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, maxBytes - total)), cancellationToken)) > 0)
        {
            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            total += read;
        }

        return (total, total >= maxBytes && await source.ReadAsync(buffer.AsMemory(0, 1), cancellationToken) > 0);
    }

    public string Describe() => $"remote WES server '{name}'";

    private async Task<string> GetAsync(string relative, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUrl, relative));
        return await SendAsync(request, cancellationToken);
    }

    private async Task<string> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        await ThrowUnlessSuccessAsync(request, response, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        // The token is for the remote only, never for a log or output link that names another host.
        if (!string.IsNullOrEmpty(options.Token) &&
            Uri.Compare(request.RequestUri, BaseUrl, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        }

        try
        {
            return await http.SendAsync(request, completion, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new RemoteWesException($"{Describe()} could not be reached ({request.Method} {request.RequestUri}): {ex.Message}", null, ex);
        }
    }

    private async Task ThrowUnlessSuccessAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        throw new RemoteWesException(
            $"{Describe()} answered {(int)response.StatusCode} to {request.Method} {request.RequestUri}: {RemoteWesAnswers.ErrorMessage(body)}",
            (int)response.StatusCode);
    }

    private static async Task<T?> OptionalAsync<T>(Func<Task<T>> call) where T : class
    {
        try
        {
            return await call();
        }
        catch (RemoteWesException ex) when (ex.StatusCode is (int)HttpStatusCode.NotFound or (int)HttpStatusCode.MethodNotAllowed or (int)HttpStatusCode.NotImplemented)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Token(string? pageToken) => pageToken is null ? "" : "&page_token=" + Uri.EscapeDataString(pageToken);
}
