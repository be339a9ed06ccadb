using Microsoft.Extensions.Options;
using Wes.Configuration;
using Wes.Execution;
using Wes.Security;

namespace Wes.Providers;

public sealed class WorkflowFetchException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Downloads an http(s) workflow_url into the run directory, within a size and a time limit.</summary>
public sealed class WorkflowFetcher(IHttpClientFactory httpClients, IOptions<WesOptions> options)
{
    public const string HttpClientName = "workflow-download";

    public async Task<string> DownloadAsync(Uri url, string directory, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var name = Path.GetFileName(url.AbsolutePath);
        var target = Path.Combine(directory, string.IsNullOrEmpty(name) || name.StartsWith('.') ? "workflow" : name);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(limits.WorkflowDownloadTimeoutSeconds));
        try
        {
            Directory.CreateDirectory(directory);
            using var response = await httpClients.CreateClient(HttpClientName)
                .GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new WorkflowFetchException($"Downloading workflow_url {url} answered HTTP {(int)response.StatusCode}.");
            }

            if (response.Content.Headers.ContentLength > limits.WorkflowDownloadMaxBytes)
            {
                throw TooLarge(url, limits.WorkflowDownloadMaxBytes);
            }

            await using var source = await response.Content.ReadAsStreamAsync(timeout.Token);
            // A link left in the folder by an earlier attempt is replaced, never written through.
            var (_, cut) = await SafeFiles.CopyCappedAsync(source, target, limits.WorkflowDownloadMaxBytes, Timeout.InfiniteTimeSpan, timeout.Token);
            return cut ? throw TooLarge(url, limits.WorkflowDownloadMaxBytes) : target;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WorkflowFetchException(
                $"Downloading workflow_url {url} took longer than {limits.WorkflowDownloadTimeoutSeconds} s.", ex);
        }
        catch (Exception ex) when (ex is Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException)
        {
            throw new WorkflowFetchException($"Could not download workflow_url {url}: {ex.Message}", ex);
        }
        catch (HttpRequestException ex) when (RefusalIn(ex) is { } refusal)
        {
            throw new WorkflowFetchException($"Refused to download workflow_url {url}: {refusal.Message}", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new WorkflowFetchException($"Could not download workflow_url {url}: {ex.Message}", ex);
        }
    }

    /// <summary>The address policy's refusal somewhere in an exception chain (the HTTP handler wraps it).</summary>
    public static FetchRefusedException? RefusalIn(Exception? exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is FetchRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }

    private static WorkflowFetchException TooLarge(Uri url, long limit) =>
        new($"workflow_url {url} is larger than the {limit}-byte limit (Wes:WorkflowDownloadMaxBytes).");
}
