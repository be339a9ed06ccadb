using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Wes.Cli.Api;

/// <summary>The WES endpoints the client uses, over one HttpClient; every failure becomes a <see cref="WesApiException"/>.</summary>
public sealed class WesApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly AuthenticationHeaderValue? _authorization;

    public WesApiClient(Uri baseUrl, string? token, HttpMessageHandler? handler = null)
    {
        // A trailing slash makes relative references ("runs/x") resolve below the base path, not beside it.
        BaseUrl = new Uri(baseUrl.AbsoluteUri.TrimEnd('/') + "/");
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = TimeSpan.FromMinutes(10);
        _authorization = string.IsNullOrEmpty(token) ? null : new AuthenticationHeaderValue("Bearer", token);
    }

    public Uri BaseUrl { get; }

    /// <summary>A link from a response, absolute or relative to the API base; null when it is not an HTTP(S) link.</summary>
    public Uri? Resolve(string? link)
    {
        if (string.IsNullOrWhiteSpace(link) || !Uri.TryCreate(BaseUrl, link.Trim(), out var uri))
        {
            return null;
        }

        return uri.Scheme is "http" or "https" ? uri : null;
    }

    public Task<ApiResult<ServiceInfo>> GetServiceInfoAsync(CancellationToken cancellationToken) =>
        GetJsonAsync<ServiceInfo>("service-info", cancellationToken);

    public Task<ApiResult<RunStatus>> GetStatusAsync(string runId, CancellationToken cancellationToken) =>
        GetJsonAsync<RunStatus>($"runs/{Escape(runId)}/status", cancellationToken);

    public Task<ApiResult<RunLog>> GetRunLogAsync(string runId, CancellationToken cancellationToken) =>
        GetJsonAsync<RunLog>($"runs/{Escape(runId)}", cancellationToken);

    public Task<ApiResult<RunListPage>> ListRunsAsync(string? pageToken, int? pageSize, CancellationToken cancellationToken) =>
        GetJsonAsync<RunListPage>("runs" + Query(pageToken, pageSize), cancellationToken);

    public Task<ApiResult<TaskListPage>> ListTasksAsync(string runId, string? pageToken, CancellationToken cancellationToken) =>
        GetJsonAsync<TaskListPage>($"runs/{Escape(runId)}/tasks" + Query(pageToken, null), cancellationToken);

    /// <summary>This server's output listing (an extension); null when the server has no such endpoint.</summary>
    public async Task<ApiResult<OutputListPage>?> ListOutputsAsync(string runId, string? pageToken, CancellationToken cancellationToken)
    {
        try
        {
            return await GetJsonAsync<OutputListPage>($"runs/{Escape(runId)}/outputs" + Query(pageToken, null), cancellationToken);
        }
        catch (WesApiException ex) when (ex.StatusCode is 404 or 405 or 501)
        {
            return null;
        }
    }

    public async Task<ApiResult<SubmittedRun>> SubmitAsync(HttpContent form, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl, "runs")) { Content = form };
        return await SendForJsonAsync<SubmittedRun>(request, cancellationToken);
    }

    public async Task<ApiResult<SubmittedRun>> CancelAsync(string runId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUrl, $"runs/{Escape(runId)}/cancel"));
        return await SendForJsonAsync<SubmittedRun>(request, cancellationToken);
    }

    /// <summary>
    /// The bytes of a log from <paramref name="offset"/> on. A Range request asks only for the new part; a server that
    /// ignores it sends everything, and the part already seen is skipped here.
    /// </summary>
    public async Task<byte[]> ReadFromAsync(Uri url, long offset, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (offset > 0)
        {
            request.Headers.Range = new RangeHeaderValue(offset, null);
        }

        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken, allow: HttpStatusCode.RequestedRangeNotSatisfiable);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            return [];
        }

        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return response.StatusCode == HttpStatusCode.PartialContent ? bytes : bytes.Skip((int)Math.Min(offset, bytes.Length)).ToArray();
    }

    /// <summary>Streams one file to <paramref name="target"/>, through a temporary name so a broken download leaves no partial file.</summary>
    public async Task DownloadAsync(Uri url, string target, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var partial = target + ".part";
        try
        {
            await using var file = File.Create(partial);
            await response.Content.CopyToAsync(file, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpIOException or HttpRequestException)
        {
            // The connection broke mid-file: a server fault (exit 3), not a local one, and no half file stays behind.
            File.Delete(partial);
            throw new WesApiException($"the download of {url} broke off: {ex.Message}", null, ex);
        }

        File.Move(partial, target, overwrite: true);
    }

    public void Dispose() => _http.Dispose();

    private async Task<ApiResult<T>> GetJsonAsync<T>(string relative, CancellationToken cancellationToken) where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUrl, relative));
        return await SendForJsonAsync<T>(request, cancellationToken);
    }

    private async Task<ApiResult<T>> SendForJsonAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken) where T : class
    {
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var json = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            return new ApiResult<T>(WesJson.Read<T>(json), json);
        }
        catch (JsonException ex)
        {
            throw new WesApiException($"{Describe(request)} answered something that is not the expected JSON: {ex.Message}", (int)response.StatusCode, ex);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(
        HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken, HttpStatusCode? allow = null)
    {
        // The token is for this server only, not for log or output links that name another host.
        if (_authorization is not null && Uri.Compare(request.RequestUri, BaseUrl, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
        {
            request.Headers.Authorization = _authorization;
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new WesApiException($"Cannot reach {request.RequestUri}: {ex.Message}", null, ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WesApiException($"{Describe(request)} timed out.", null, ex);
        }

        if (response.IsSuccessStatusCode || response.StatusCode == allow)
        {
            return response;
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new WesApiException($"{Describe(request)} failed with {(int)response.StatusCode}: {ErrorMessage(body, response.ReasonPhrase)}", (int)response.StatusCode);
        }
    }

    /// <summary>The "msg" of a WES ErrorResponse, else the start of whatever the server sent, on one line.</summary>
    public static string ErrorMessage(string body, string? reason)
    {
        try
        {
            if (JsonSerializer.Deserialize<ErrorBody>(body, WesJson.Options) is { Msg: { Length: > 0 } msg })
            {
                return OneLine(msg);
            }
        }
        catch (JsonException)
        {
        }

        return string.IsNullOrWhiteSpace(body) ? reason ?? "no message" : OneLine(body.Length > 200 ? body[..200] + "…" : body);
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Describe(HttpRequestMessage request) => $"{request.Method} {request.RequestUri}";

    private static string Escape(string value) => Uri.EscapeDataString(value);

    private static string Query(string? pageToken, int? pageSize)
    {
        var parts = new List<string>();
        if (pageSize is { } size)
        {
            parts.Add($"page_size={size}");
        }

        if (!string.IsNullOrEmpty(pageToken))
        {
            parts.Add("page_token=" + Escape(pageToken));
        }

        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }
}
