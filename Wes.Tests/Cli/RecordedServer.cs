using System.Net;
using System.Text;

namespace Wes.Tests.Cli;

/// <summary>
/// Answers with recorded bodies of other WES servers, by "METHOD path?query"; anything else is a 404 ErrorResponse.
/// Notes every request, so a test can see which URL a relative link resolved to.
/// </summary>
public sealed class RecordedServer : HttpMessageHandler
{
    public const string Base = "http://wes.test/ga4gh/wes/v1";
    private readonly Dictionary<string, (HttpStatusCode Status, string Body)> _answers = new(StringComparer.Ordinal);

    /// <summary>"METHOD path?query" (the whole URL for another host), the body and the Authorization header of each request.</summary>
    public List<(string Request, string Body, string? Authorization)> Requests { get; } = [];

    public RecordedServer Answer(string request, string body, HttpStatusCode status = HttpStatusCode.OK)
    {
        _answers[request] = (status, body);
        return this;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var key = request.RequestUri!.Host == "wes.test" ? $"{request.Method} {request.RequestUri.PathAndQuery}" : $"{request.Method} {request.RequestUri}";
        Requests.Add((key, request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken), request.Headers.Authorization?.ToString()));
        var (status, body) = _answers.TryGetValue(key, out var answer)
            ? answer
            : (HttpStatusCode.NotFound, $$"""{"msg": "no recording for {{key}}", "status_code": 404}""");
        var type = body.TrimStart().StartsWith('{') ? "application/json" : "text/plain";
        return new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, type), RequestMessage = request };
    }

    public Task<CliResult> RunAsync(params string[] args) => CliHarness.RunAsync(this, [.. args, "--url", Base]);
}
