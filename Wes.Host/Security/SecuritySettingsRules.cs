using System.Globalization;
using Wes.Configuration;

namespace Wes.Security;

/// <summary>Start-up checks of Wes:Auth, Wes:Limits and Wes:Fetch, each failure named; secrets are never echoed.</summary>
public static class SecuritySettingsRules
{
    /// <summary>Owner names are stored with the run (runs.owner holds up to 200 characters).</summary>
    public const int MaxUserNameLength = 200;

    public static void Check(WesOptions options, SettingProblems problems)
    {
        CheckAuth(options.Auth, problems);
        CheckLimits(options.Limits, problems);
        foreach (var entry in options.Fetch.AllowedHostList.Where(e => FetchAllowList.Parse(e) is null))
        {
            problems.Check(false, "WES_ALLOWED_FETCH_HOSTS (Wes:Fetch:AllowedHosts)",
                "must list host names, *.domain suffixes, IP addresses or CIDR ranges", entry);
        }
    }

    private static void CheckAuth(AuthOptions auth, SettingProblems problems)
    {
        problems.Check(AuthOptions.Modes.Contains(auth.NormalizedMode), "WES_AUTH_MODE (Wes:Auth:Mode)",
            $"must be one of {string.Join(", ", AuthOptions.Modes)}", auth.Mode);
        if (auth.NormalizedMode == AuthOptions.ModeToken)
        {
            CheckTokens(auth.Tokens, problems);
        }
        else if (auth.NormalizedMode == AuthOptions.ModeJwt)
        {
            CheckJwt(auth.Jwt, problems);
        }
    }

    private static void CheckTokens(List<StaticTokenOptions> tokens, SettingProblems problems)
    {
        if (tokens.Count == 0)
        {
            problems.Add("Wes:Auth:Tokens", "must list at least one token (Sha256 and User) when WES_AUTH_MODE is token");
        }

        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < tokens.Count; i++)
        {
            var hash = tokens[i].Sha256?.Trim() ?? "";
            var setting = $"Wes:Auth:Tokens:{i}:Sha256";
            // The value is never echoed: someone may have pasted the token itself here.
            if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit))
            {
                problems.Add(setting, $"must be the SHA-256 of the token as 64 hexadecimal characters, not the token itself; got {hash.Length} character(s)");
            }
            else if (seen.TryGetValue(hash, out var first))
            {
                problems.Add(setting, $"is the same hash as Wes:Auth:Tokens:{first}:Sha256");
            }
            else
            {
                seen[hash] = i;
            }

            problems.Check(IsUserName(tokens[i].User), $"Wes:Auth:Tokens:{i}:User",
                $"must be a user name of 1 to {MaxUserNameLength} printable characters", tokens[i].User);
        }
    }

    private static void CheckJwt(JwtOptions jwt, SettingProblems problems)
    {
        var hasAuthority = !string.IsNullOrWhiteSpace(jwt.Authority);
        var hasKeyFile = !string.IsNullOrWhiteSpace(jwt.KeyFile);
        if (hasAuthority == hasKeyFile)
        {
            problems.Add("Wes:Auth:Jwt", "needs exactly one of Authority (OpenID Connect discovery) and KeyFile (JWKS or PEM public key) when WES_AUTH_MODE is jwt");
        }

        if (hasAuthority)
        {
            var https = Uri.TryCreate(jwt.Authority, UriKind.Absolute, out var uri) &&
                (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && !jwt.RequireHttpsMetadata));
            problems.Check(https, "Wes:Auth:Jwt:Authority",
                "must be an absolute https URL (http only with Wes:Auth:Jwt:RequireHttpsMetadata=false)", jwt.Authority);
        }

        if (hasKeyFile && JwtSigningKeys.Load(jwt.KeyFile!).Problem is { } keyProblem)
        {
            problems.Add("Wes:Auth:Jwt:KeyFile", $"'{jwt.KeyFile}' {keyProblem}");
        }

        problems.Check(!string.IsNullOrWhiteSpace(jwt.Audience), "Wes:Auth:Jwt:Audience",
            "must name this server's audience, so a token minted for another service is refused", jwt.Audience);
        problems.Check(!string.IsNullOrWhiteSpace(jwt.UserClaim), "Wes:Auth:Jwt:UserClaim", "must name the claim that identifies the user", jwt.UserClaim);
        problems.Check(jwt.ClockSkewSeconds is >= 0 and <= 600, "Wes:Auth:Jwt:ClockSkewSeconds", "must be between 0 and 600", jwt.ClockSkewSeconds);
    }

    private static void CheckLimits(LimitOptions limits, SettingProblems problems)
    {
        problems.Check(limits.MaxRequestBodyBytes is >= 1024 and <= 1L << 40, "WES_MAX_REQUEST_BYTES (Wes:Limits:MaxRequestBodyBytes)",
            "must be between 1024 and 1099511627776", limits.MaxRequestBodyBytes);
        problems.Check(limits.MaxAttachments is >= 0 and <= 100_000, "Wes:Limits:MaxAttachments", "must be between 0 and 100000", limits.MaxAttachments);
        problems.Check(limits.MaxAttachmentBytes >= 0, "Wes:Limits:MaxAttachmentBytes", "must not be negative", limits.MaxAttachmentBytes);
        problems.Check(limits.MaxFieldBytes is >= 1024 and <= 256 * 1024 * 1024, "Wes:Limits:MaxFieldBytes",
            "must be between 1024 and 268435456", limits.MaxFieldBytes);
        problems.Check(limits.MaxJsonDepth is >= 2 and <= 64, "Wes:Limits:MaxJsonDepth",
            "must be between 2 (a RunRequest holding flat objects) and 64", limits.MaxJsonDepth);
        problems.Check(limits.MaxJsonElements is >= 100 and <= 100_000_000, "Wes:Limits:MaxJsonElements",
            "must be between 100 and 100000000", limits.MaxJsonElements);
        problems.Check(limits.MaxQueuedRunsPerUser >= 1, "WES_MAX_QUEUED_PER_USER (Wes:Limits:MaxQueuedRunsPerUser)", "must be at least 1",
            limits.MaxQueuedRunsPerUser);
        problems.Check(limits.RequestsPerSecond is >= 0 and <= 1_000_000, "WES_RATE_LIMIT (Wes:Limits:RequestsPerSecond)",
            "must be between 0 (no limit) and 1000000", limits.RequestsPerSecond.ToString(CultureInfo.InvariantCulture));
        problems.Check(limits.RequestBurst is >= 1 and <= 1_000_000, "Wes:Limits:RequestBurst", "must be between 1 and 1000000", limits.RequestBurst);
    }

    private static bool IsUserName(string? user) =>
        !string.IsNullOrWhiteSpace(user) && user.Length <= MaxUserNameLength && !user.Any(char.IsControl);
}
