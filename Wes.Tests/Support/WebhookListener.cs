using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Wes.Tests.Support;

/// <summary>
/// A webhook receiver on 127.0.0.1 that keeps every request it gets, headers and exact body bytes, and answers with
/// the statuses it was given, one per request, then 200.
/// </summary>
public sealed class WebhookListener : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Channel<ReceivedWebhook> _received = Channel.CreateUnbounded<ReceivedWebhook>();
    private readonly ConcurrentQueue<ReceivedWebhook> _all = new();
    private readonly ConcurrentQueue<int> _statuses;
    private readonly bool _alwaysFail;

    /// <param name="port">A port to listen on, for a receiver that comes up where an earlier one was down.</param>
    /// <param name="statuses">Answers to the first requests, in order; 200 after them.</param>
    /// <param name="alwaysFail">Answer 500 to every request.</param>
    public WebhookListener(int? port = null, IEnumerable<int>? statuses = null, bool alwaysFail = false)
    {
        Port = port ?? LocalHttpServer.FreePort();
        _statuses = new ConcurrentQueue<int>(statuses ?? []);
        _alwaysFail = alwaysFail;
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = ServeAsync();
    }

    public int Port { get; }
    public string Url => UrlOn(Port);
    public IReadOnlyList<ReceivedWebhook> Received => _all.ToList();

    public static string UrlOn(int port) => $"http://127.0.0.1:{port}/hooks/t0ken-in-path?token=t0ken";

    /// <summary>The next request, waiting for it up to <paramref name="timeout"/> (30 s by default).</summary>
    public async Task<ReceivedWebhook> NextAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            return await _received.Reader.ReadAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No webhook request within {timeout ?? TimeSpan.FromSeconds(30)}.");
        }
    }

    public void Dispose() => _listener.Close();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                var headers = context.Request.Headers.AllKeys.OfType<string>()
                    .ToDictionary(key => key, key => context.Request.Headers[key] ?? "", StringComparer.OrdinalIgnoreCase);
                var status = _alwaysFail ? 500 : _statuses.TryDequeue(out var next) ? next : 200;
                var request = new ReceivedWebhook(context.Request.HttpMethod, context.Request.Url!.PathAndQuery, headers, body.ToArray(), status);
                _all.Enqueue(request);
                _received.Writer.TryWrite(request);
                context.Response.StatusCode = status;
                if (status is >= 300 and < 400)
                {
                    // A redirect to a page that answers 200 to anything: a sender that followed it would look delivered.
                    context.Response.RedirectLocation = "/landing";
                }

                context.Response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or IOException)
            {
                // The sender went away.
            }
        }
    }
}

/// <summary>One request as the receiver got it, with the status it was answered.</summary>
public sealed record ReceivedWebhook(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body, int AnsweredStatus)
{
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";
}
