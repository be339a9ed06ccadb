using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Wes.Persistence;

namespace Wes.Api;

/// <summary>
/// Opaque, tamper-evident keyset tokens: the position after the last item, bound to the listing it came from and
/// signed with an HMAC key kept in the database, so every API process sharing it accepts the others' tokens.
/// </summary>
public sealed class PageTokens(RunStore store)
{
    private const int MacBytes = 16;
    private readonly SemaphoreSlim _keyLock = new(1, 1);
    private byte[]? _key;

    public async Task<string> CreateAsync(string scope, long position, CancellationToken cancellationToken)
    {
        var payload = Encoding.UTF8.GetBytes(position.ToString(CultureInfo.InvariantCulture));
        var mac = await MacAsync(scope, payload, cancellationToken);
        return WebEncoders.Base64UrlEncode([.. mac, .. payload]);
    }

    /// <summary>The position in a token, or an ApiException (400) if it is malformed, forged or from another listing.</summary>
    public async Task<long> ReadAsync(string scope, string token, CancellationToken cancellationToken)
    {
        byte[] raw;
        try
        {
            raw = WebEncoders.Base64UrlDecode(token);
        }
        catch (FormatException)
        {
            throw Invalid();
        }

        if (raw.Length <= MacBytes || raw.Length > MacBytes + 20)
        {
            throw Invalid();
        }

        var payload = raw[MacBytes..];
        var expected = await MacAsync(scope, payload, cancellationToken);
        if (!CryptographicOperations.FixedTimeEquals(expected, raw.AsSpan(0, MacBytes)) ||
            !long.TryParse(Encoding.UTF8.GetString(payload), NumberStyles.None, CultureInfo.InvariantCulture, out var position))
        {
            throw Invalid();
        }

        return position;
    }

    private static ApiException Invalid() =>
        new(StatusCodes.Status400BadRequest, "page_token is not valid for this listing; use a next_page_token exactly as returned.");

    private async Task<byte[]> MacAsync(string scope, byte[] payload, CancellationToken cancellationToken)
    {
        var key = _key ?? await LoadKeyAsync(cancellationToken);
        byte[] message = [.. Encoding.UTF8.GetBytes(scope), 0, .. payload];
        return HMACSHA256.HashData(key, message)[..MacBytes];
    }

    private async Task<byte[]> LoadKeyAsync(CancellationToken cancellationToken)
    {
        await _keyLock.WaitAsync(cancellationToken);
        try
        {
            _key ??= Convert.FromBase64String(await store.GetOrCreateSettingAsync("page_token_key",
                () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), cancellationToken));
            return _key;
        }
        finally
        {
            _keyLock.Release();
        }
    }
}
