namespace Wes.Cli.Api;

/// <summary>The server could not be reached or answered an error; the message is the one line the user sees.</summary>
public sealed class WesApiException(string message, int? statusCode = null, Exception? inner = null) : Exception(message, inner)
{
    public int? StatusCode { get; } = statusCode;
}
