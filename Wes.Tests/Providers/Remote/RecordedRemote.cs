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
    private readonly Dictionary<string, Queue<(HttpStatusCode Status, string Body)>> _turns = new(StringComparer.Ordinal);

    public List<HttpRequestMessage> Requests { get; } = [];

    public RecordedRemote Answer(string method, string pathAndQuery, string body, HttpStatusCode status = HttpStatusCode.OK)
    {
        _answers[$"{method} {pathAndQuery}"] = (status, body);
        return this;
    }

    /// <summary>Answers these in turn, one per request, then the last one for every request after.</summary>
    public RecordedRemote AnswerInTurn(string method, string pathAndQuery, params (HttpStatusCode Status, string Body)[] answers)
    {
        _turns[$"{method} {pathAndQuery}"] = new Queue<(HttpStatusCode, string)>(answers[..^1]);
        return Answer(method, pathAndQuery, answers[^1].Body, answers[^1].Status);
    }

    public int Count(string method, string pathAndQuery)
    {
        lock (Requests)
        {
            return Requests.Count(r => r.Method.Method == method && r.RequestUri!.PathAndQuery == pathAndQuery);
        }
    }

    public RemoteWesClient Client(string name = "rec", string? token = null) =>
        new(name, new RemoteWesOptions { Url = BaseUrl, Token = token }, new HttpClient(this, disposeHandler: false));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var key = $"{request.Method} {request.RequestUri!.PathAndQuery}";
        (HttpStatusCode Status, string Body) answer;
        lock (Requests)
        {
            Requests.Add(request);
            answer = _turns.TryGetValue(key, out var turns) && turns.TryDequeue(out var turn) ? turn
                : _answers.TryGetValue(key, out var fixedAnswer) ? fixedAnswer
                : (HttpStatusCode.NotFound, """{"msg": "not found", "status_code": 404}""");
        }

        var (status, body) = answer;
        return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
    }
}
