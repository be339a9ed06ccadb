using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Wes.Tests.Support;

/// <summary>
/// An HTTP server on a raw socket bound to one loopback address. It answers whatever Host a client names, and notes
/// every connection, even one that never sends a request: "not reached" then means no connection at all.
/// </summary>
public sealed class LoopbackHttpServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _body;
    private readonly string? _redirectTo;
    private readonly IReadOnlyDictionary<string, string>? _routes;

    /// <param name="routes">When given, each path answers its own body and any other path 404.</param>
    public LoopbackHttpServer(string body, string? redirectTo = null, string address = "127.0.0.1", IReadOnlyDictionary<string, string>? routes = null)
    {
        _body = Encoding.UTF8.GetBytes(body);
        _redirectTo = redirectTo;
        _routes = routes;
        _listener = new TcpListener(IPAddress.Parse(address), 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        BaseUrl = $"http://{address}:{Port}/";
        _ = ServeAsync();
    }

    public int Port { get; }
    public string BaseUrl { get; }
    public bool WasReached => _connected.Task.IsCompleted;

    /// <summary>The same server named by the host name "localhost".</summary>
    public string LocalhostUrl(string path) => $"http://localhost:{Port}/{path}";

    public void Dispose() => _listener.Stop();

    private async Task ServeAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            _connected.TrySetResult();
            _ = AnswerAsync(client);
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = new StringBuilder();
                var buffer = new byte[4096];
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer);
                    if (read == 0)
                    {
                        return;
                    }

                    head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }

                var path = head.ToString().Split(' ', 3)[1];
                var body = _routes is null ? _body : _routes.TryGetValue(path, out var routed) ? Encoding.UTF8.GetBytes(routed) : null;
                var answer = _redirectTo is not null ? $"HTTP/1.1 302 Found\r\nLocation: {_redirectTo}\r\nContent-Length: 0\r\n"
                    : body is null ? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                    : $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(answer + "Connection: close\r\n\r\n"));
                await stream.WriteAsync(_redirectTo is null && body is not null ? body : []);
            }
            catch (IOException)
            {
                // The client went away.
            }
        }
    }
}
