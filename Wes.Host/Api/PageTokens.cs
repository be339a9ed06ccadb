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

    /// <summary>Longest text position a token carries: a path relative to a run folder fits, as realpath(3) caps paths at 4096 bytes.</summary>
    public const int MaxTextPositionBytes = 4096;

    private const int MaxNumberBytes = 20;

    // Text positions start with a marker no number has, so a number token never reads as text or the other way round.
    private const byte TextMarker = (byte)'s';
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public Task<string> CreateAsync(string scope, long position, CancellationToken cancellationToken) =>
        SignAsync(scope, Encoding.UTF8.GetBytes(position.ToString(CultureInfo.InvariantCulture)), cancellationToken);

    /// <summary>A token for a position that is a text, such as the last path of a page of files.</summary>
    public Task<string> CreateAsync(string scope, string position, CancellationToken cancellationToken)
    {
        var text = StrictUtf8.GetBytes(position);
        if (text.Length > MaxTextPositionBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(position), $"A text position is at most {MaxTextPositionBytes} bytes.");
        }

        return SignAsync(scope, [TextMarker, .. text], cancellationToken);
    }

    /// <summary>The position in a token, or an ApiException (400) if it is malformed, forged or from another listing.</summary>
    public async Task<long> ReadAsync(string scope, string token, CancellationToken cancellationToken)
    {
        var payload = await VerifiedPayloadAsync(scope, token, MaxNumberBytes, cancellationToken);
        return long.TryParse(Encoding.UTF8.GetString(payload), NumberStyles.None, CultureInfo.InvariantCulture, out var position)
            ? position
            : throw Invalid();
    }

    /// <summary>The text position in a token made by <see cref="CreateAsync(string, string, CancellationToken)"/>, or an ApiException (400).</summary>
    public async Task<string> ReadTextAsync(string scope, string token, CancellationToken cancellationToken)
    {
        var payload = await VerifiedPayloadAsync(scope, token, 1 + MaxTextPositionBytes, cancellationToken);
        if (payload[0] != TextMarker)
        {
            throw Invalid();
        }

        try
        {
            return StrictUtf8.GetString(payload, 1, payload.Length - 1);
        }
        catch (DecoderFallbackException)
        {
            throw Invalid();
        }
    }

    private async Task<string> SignAsync(string scope, byte[] payload, CancellationToken cancellationToken)
    {
        var mac = await MacAsync(scope, payload, cancellationToken);
        return WebEncoders.Base64UrlEncode([.. mac, .. payload]);
    }

    private async Task<byte[]> VerifiedPayloadAsync(string scope, string token, int maxPayloadBytes, CancellationToken cancellationToken)
    {
        // Checked before decoding, so an oversized token costs nothing.
        if (token.Length > (MacBytes + maxPayloadBytes + 2) / 3 * 4)
        {
            throw Invalid();
        }

        byte[] raw;
        try
        {
            raw = WebEncoders.Base64UrlDecode(token);
        }
        catch (FormatException)
        {
            throw Invalid();
        }

        if (raw.Length <= MacBytes || raw.Length > MacBytes + maxPayloadBytes)
        {
            throw Invalid();
        }

        var payload = raw[MacBytes..];
        var expected = await MacAsync(scope, payload, cancellationToken);
        return CryptographicOperations.FixedTimeEquals(expected, raw.AsSpan(0, MacBytes)) ? payload : throw Invalid();
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
