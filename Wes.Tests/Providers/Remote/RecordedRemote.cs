using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
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
    private readonly HashSet<string> _stalled = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<(HttpStatusCode Status, string Body)>> _turns = new(StringComparer.Ordinal);

    public List<HttpRequestMessage> Requests { get; } = [];

    public RecordedRemote Answer(string method, string pathAndQuery, string body, HttpStatusCode status = HttpStatusCode.OK)
    {
        lock (Requests)
        {
            _answers[$"{method} {pathAndQuery}"] = (status, body);
        }

        return this;
    }

    /// <summary>Answers these in turn, one per request, then the last one for every request after.</summary>
    public RecordedRemote AnswerInTurn(string method, string pathAndQuery, params (HttpStatusCode Status, string Body)[] answers)
    {
        _turns[$"{method} {pathAndQuery}"] = new Queue<(HttpStatusCode, string)>(answers[..^1]);
        return Answer(method, pathAndQuery, answers[^1].Body, answers[^1].Status);
    }

    /// <summary>Answers 200 with headers, then a body that never comes.</summary>
    public RecordedRemote Stall(string method, string pathAndQuery)
    {
        _stalled.Add($"{method} {pathAndQuery}");
        return this;
    }

    public int Count(string method, string pathAndQuery)
    {
        lock (Requests)
        {
            return Requests.Count(r => r.Method.Method == method && r.RequestUri!.PathAndQuery == pathAndQuery);
        }
    }

    /// <summary>Settings of this remote as "rec", polled fast so that the runs a test follows end quickly.</summary>
    public static RemoteWesOptions Options(double timeoutSeconds = 300, string? token = null) =>
        new() { Url = BaseUrl, Token = token, PollSeconds = 0.05, TimeoutSeconds = timeoutSeconds };

    public RemoteWesClient Client(double timeoutSeconds = 300, string? token = null) => Client(Options(timeoutSeconds, token));

    public RemoteRunPoller Poller(double timeoutSeconds = 30)
    {
        var options = Options(timeoutSeconds);
        return new RemoteRunPoller(Client(options), options, TimeProvider.System, NullLogger.Instance);
    }

    public RemoteWesProvider Provider(double timeoutSeconds = 30)
    {
        var options = Options(timeoutSeconds);
        return new RemoteWesProvider("rec", options, Client(options), [], TimeProvider.System, NullLogger.Instance);
    }

    private RemoteWesClient Client(RemoteWesOptions options) => new("rec", options, new HttpClient(this, disposeHandler: false));

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

        if (_stalled.Contains(key))
        {
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new StalledStream()) });
        }

        var (status, body) = answer;
        return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
    }
}

/// <summary>A body whose first read waits until it is cancelled.</summary>
internal sealed class StalledStream : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => 0; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
