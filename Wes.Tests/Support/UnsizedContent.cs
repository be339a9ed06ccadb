namespace Wes.Tests.Support;

/// <summary>A body that announces no length, as a chunked upload does.</summary>
public sealed class UnsizedContent : HttpContent
{
    private readonly byte[] _body;

    public UnsizedContent(byte[] body, string contentType)
    {
        _body = body;
        Headers.TryAddWithoutValidation("Content-Type", contentType);
    }

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(_body).AsTask();

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
