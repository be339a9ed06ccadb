namespace Wes.Providers.Remote;

/// <summary>
/// The engine versions a remote's service-info reports, asked in the background and kept for a few minutes, so
/// submissions and service-info never wait on the remote. Until it has answered, an engine's version reads "remote".
/// </summary>
public sealed class RemoteEngineVersions(RemoteWesClient client, TimeProvider clock, ILogger logger)
{
    public const string Unknown = "remote";
    private static readonly TimeSpan Fresh = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);
    private IReadOnlyDictionary<string, IReadOnlyList<string>> _versions = new Dictionary<string, IReadOnlyList<string>>();
    private DateTimeOffset _askedAt = DateTimeOffset.MinValue;
    private int _asking;

    public string Of(string engine)
    {
        if (clock.GetUtcNow() - _askedAt > Fresh && Interlocked.Exchange(ref _asking, 1) == 0)
        {
            _askedAt = clock.GetUtcNow();
            _ = Task.Run(AskAsync, CancellationToken.None);
        }

        var known = _versions.FirstOrDefault(pair => string.Equals(pair.Key, engine, StringComparison.OrdinalIgnoreCase)).Value;
        return known is { Count: > 0 } ? known[^1][..Math.Min(known[^1].Length, 64)] : Unknown;
    }

    /// <summary>Keeps what a service-info asked for another reason said, so the versions need no call of their own.</summary>
    public void Remember(RemoteServiceInfo info)
    {
        _versions = info.EngineVersions;
        _askedAt = clock.GetUtcNow();
    }

    private async Task AskAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(AskTimeout);
            _versions = (await client.GetServiceInfoAsync(timeout.Token)).EngineVersions;
        }
        catch (Exception ex) when (ex is RemoteWesException or System.Text.Json.JsonException or OperationCanceledException)
        {
            logger.LogInformation("{Remote} did not tell its engine versions: {Error}", client.Describe(), ex.Message);
        }
        finally
        {
            Volatile.Write(ref _asking, 0);
        }
    }
}
