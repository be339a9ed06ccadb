using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Wes.Runs;

namespace Wes.Providers.Remote;

/// <summary>A call to a remote that failed: <see cref="StatusCode"/> is what it answered, or null when it could not be reached.</summary>
public sealed class RemoteWesException(string message, int? statusCode = null, Exception? inner = null) : Exception(message, inner)
{
    public int? StatusCode { get; } = statusCode;

    /// <summary>The remote took the request (a 2xx) but its answer could not be used: repeating it would do it twice.</summary>
    public bool Accepted { get; init; }

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

    /// <summary>Largest answer read: a listing page of 500 runs or tasks is far smaller.</summary>
    private const int MaxAnswerBytes = 16 * 1024 * 1024;

    private const int MaxErrorBytes = 64 * 1024;

    /// <summary>With a trailing slash, so relative references ("runs/x") resolve below the base path.</summary>
    public Uri BaseUrl { get; } = new(options.Url!.TrimEnd('/') + "/");

    /// <summary>
    /// Posts a run. Any 2xx means the remote took it: an answer without a usable run id is then a failure with
    /// <see cref="RemoteWesException.Accepted"/> set, never one to post again after.
    /// </summary>
    public async Task<string> SubmitAsync(HttpContent form, string idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl, "runs")) { Content = form };
        // This server answers a repeated key with the first run; a remote that ignores the header does no harm.
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        call.CancelAfter(options.UploadTimeout);
        using var response = await SendRawAsync(request, call.Token, cancellationToken);
        await ThrowUnlessSuccessAsync(request, response, call.Token, cancellationToken);
        string body = "";
        try
        {
            body = await ReadAsync(response, MaxAnswerBytes, cutLonger: false, call.Token);
            if (RemoteWesAnswers.RunId(body) is { Length: > 0 } runId)
            {
                return runId;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new RemoteWesException($"{Describe()} accepted POST {request.RequestUri} ({(int)response.StatusCode}) but its answer could not be read ({ex.Message}): {RemoteWesAnswers.Start(body)}",
                (int)response.StatusCode, ex) { Accepted = true };
        }

        throw new RemoteWesException(
            $"{Describe()} accepted POST {request.RequestUri} ({(int)response.StatusCode}) but answered no run_id: {RemoteWesAnswers.Start(body)}",
            (int)response.StatusCode) { Accepted = true };
    }

    /// <summary>
    /// The remote run an earlier post of this run became, found by the wes.forwarded_run_id tag in the remote's
    /// newest runs; null when none carries it (or the listing shows no tags).
    /// </summary>
    public async Task<string?> FindForwardedAsync(string runId, CancellationToken cancellationToken)
    {
        await foreach (var page in PagesAsync(async token => RemoteWesAnswers.Tagged(await GetAsync("runs?page_size=100" + Token(token), cancellationToken)), 3))
        {
            if (page.Items.FirstOrDefault(r => r.ForwardedRunId == runId && !string.IsNullOrEmpty(r.RunId)).RunId is { } found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>
    /// The pages of a listing, from the first: they end after <paramref name="maxPages"/>, at a page without a next
    /// token, at an empty page, when the remote hands out a token it gave before (it would page on forever), or when
    /// <paramref name="read"/> answers null (the remote has no such listing).
    /// </summary>
    public static async IAsyncEnumerable<RemotePage<T>> PagesAsync<T>(Func<string?, Task<RemotePage<T>?>> read, int maxPages)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? token = null;
        for (var pages = 0; pages < maxPages; pages++)
        {
            if (await read(token) is not { } page)
            {
                yield break;
            }

            yield return page;
            token = page.NextPageToken;
            if (token is null || page.Items.Count == 0 || !seen.Add(token))
            {
                yield break;
            }
        }
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
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(options.CallTimeout);
        using var response = await SendRawAsync(request, idle.Token, cancellationToken);
        await ThrowUnlessSuccessAsync(request, response, idle.Token, cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            await using var source = await response.Content.ReadAsStreamAsync(idle.Token);
            // From here each read has a whole call's time of its own: a large file may take long, but not stall.
            idle.CancelAfter(Timeout.InfiniteTimeSpan);
            // A link an earlier copy left is replaced, never written through.
            return await Execution.SafeFiles.CopyCappedAsync(source, target, maxBytes, options.CallTimeout, cancellationToken);
        }
        catch (Exception ex) when (Unreachable(ex, cancellationToken))
        {
            throw new RemoteWesException($"{Describe()} stopped sending {url}: {ex.Message}", null, ex);
        }
    }

    public string Describe() => $"remote WES server '{name}'";

    private async Task<string> GetAsync(string relative, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUrl, relative));
        return await SendAsync(request, cancellationToken);
    }

    /// <summary>One call, bounded as a whole (its tries, the answer's headers and its whole body) by CallTimeout.</summary>
    private async Task<string> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        call.CancelAfter(options.CallTimeout);
        using var response = await SendRawAsync(request, call.Token, cancellationToken);
        await ThrowUnlessSuccessAsync(request, response, call.Token, cancellationToken);
        try
        {
            return await ReadAsync(response, MaxAnswerBytes, cutLonger: false, call.Token);
        }
        catch (Exception ex) when (Unreachable(ex, cancellationToken) || ex is InvalidDataException)
        {
            throw new RemoteWesException($"{Describe()} did not finish its answer to {request.Method} {request.RequestUri}: {ex.Message}", null, ex);
        }
    }

    /// <param name="call">This call's own token, which its timeout cancels.</param>
    /// <param name="caller">The caller's token: only its cancel is let through as a cancel.</param>
    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken call, CancellationToken caller)
    {
        // The token is for the remote only, never for a log or output link that names another host.
        if (!string.IsNullOrEmpty(options.Token) &&
            Uri.Compare(request.RequestUri, BaseUrl, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        }

        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, call);
        }
        catch (Exception ex) when (Unreachable(ex, caller))
        {
            throw new RemoteWesException($"{Describe()} could not be reached ({request.Method} {request.RequestUri}): {ex.Message}", null, ex);
        }
    }

    private static bool Unreachable(Exception ex, CancellationToken caller) =>
        ex is HttpRequestException or IOException or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException
        || (ex is OperationCanceledException && !caller.IsCancellationRequested);

    private async Task ThrowUnlessSuccessAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken call, CancellationToken caller)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string body;
        try
        {
            body = await ReadAsync(response, MaxErrorBytes, cutLonger: true, call);
        }
        catch (Exception ex) when (Unreachable(ex, caller) || ex is InvalidDataException)
        {
            body = "";
        }

        throw new RemoteWesException(
            $"{Describe()} answered {(int)response.StatusCode} to {request.Method} {request.RequestUri}: {RemoteWesAnswers.ErrorMessage(body)}",
            (int)response.StatusCode);
    }

    /// <summary>The answer as text, at most <paramref name="maxBytes"/>.</summary>
    /// <param name="cutLonger">True to keep the start of a longer answer (an error's start is enough), false to refuse it (a longer answer is not one this server reads).</param>
    private static async Task<string> ReadAsync(HttpResponseMessage response, int maxBytes, bool cutLonger, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                if (cutLonger)
                {
                    buffer.Write(chunk, 0, (int)(maxBytes - buffer.Length));
                    break;
                }

                throw new InvalidDataException($"the answer is longer than {maxBytes / (1024 * 1024)} MB");
            }

            buffer.Write(chunk, 0, read);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
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
