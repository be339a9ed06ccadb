using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Wes.Tests.Support;

/// <summary>A tiny HTTP server on 127.0.0.1 that serves one body, optionally holding each answer until released.</summary>
public sealed class LocalHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _requested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _body;
    private readonly bool _hold;

    public LocalHttpServer(string body, bool hold = false)
    {
        _body = Encoding.UTF8.GetBytes(body);
        _hold = hold;
        var port = FreePort();
        BaseUrl = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(BaseUrl);
        _listener.Start();
        _ = ServeAsync();
    }

    public string BaseUrl { get; }
    public Task Requested => _requested.Task;

    public void Release() => _release.TrySetResult();

    public void Dispose()
    {
        _release.TrySetResult();
        _listener.Close();
    }

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

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

            _requested.TrySetResult();
            if (_hold)
            {
                await _release.Task;
            }

            try
            {
                context.Response.ContentLength64 = _body.Length;
                await context.Response.OutputStream.WriteAsync(_body);
                context.Response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or IOException)
            {
                // The client went away.
            }
        }
    }
}
