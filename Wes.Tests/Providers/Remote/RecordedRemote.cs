using System.Net;
using System.Text;
using Wes.Providers.Remote;

namespace Wes.Tests.Providers.Remote;

/// <summary>
/// A remote WES server that answers from bodies recorded for a test, by method and path (with query); anything else is
/// a 404 in the WES error shape. Notes every request it was sent.
/// </summary>
public sealed class RecordedRemote : HttpMessageHandler
{
    public const string BaseUrl = "http://remote.test/ga4gh/wes/v1";
    private readonly Dictionary<string, (HttpStatusCode Status, string Body)> _answers = new(StringComparer.Ordinal);

    public List<HttpRequestMessage> Requests { get; } = [];

    public RecordedRemote Answer(string method, string pathAndQuery, string body, HttpStatusCode status = HttpStatusCode.OK)
    {
        _answers[$"{method} {pathAndQuery}"] = (status, body);
        return this;
    }

    public RemoteWesClient Client(string name = "rec", string? token = null) =>
        new(name, new RemoteWesOptions { Url = BaseUrl, Token = token }, new HttpClient(this, disposeHandler: false));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        lock (Requests)
        {
            Requests.Add(request);
        }

        var key = $"{request.Method} {request.RequestUri!.PathAndQuery}";
        var (status, body) = _answers.TryGetValue(key, out var answer)
            ? answer
            : (HttpStatusCode.NotFound, """{"msg": "not found", "status_code": 404}""");
        return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
    }
}
