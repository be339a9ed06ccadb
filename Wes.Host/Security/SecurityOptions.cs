namespace Wes.Security;

/// <summary>Who may call the API (Wes:Auth). "none" keeps the API open, which is why it only listens on localhost by default.</summary>
public sealed class AuthOptions
{
    public const string ModeNone = "none";
    public const string ModeToken = "token";
    public const string ModeJwt = "jwt";
    public static readonly string[] Modes = [ModeNone, ModeToken, ModeJwt];

    /// <summary>none, token or jwt (WES_AUTH_MODE).</summary>
    public string Mode { get; set; } = ModeNone;

    /// <summary>Static bearer tokens, each stored as the SHA-256 of the token so the settings never hold a usable secret.</summary>
    public List<StaticTokenOptions> Tokens { get; set; } = [];

    public JwtOptions Jwt { get; set; } = new();

    public string NormalizedMode => Mode.Trim().ToLowerInvariant();
    public bool IsOn => NormalizedMode != ModeNone;
}

public sealed class StaticTokenOptions
{
    /// <summary>Hex SHA-256 of the token's UTF-8 bytes.</summary>
    public string? Sha256 { get; set; }

    /// <summary>The user the token stands for; runs it submits are owned by this name.</summary>
    public string? User { get; set; }

    /// <summary>An admin sees and cancels every user's runs.</summary>
    public bool Admin { get; set; }
}

public sealed class JwtOptions
{
    /// <summary>OpenID Connect issuer; its discovery document names the signing keys. Either this or KeyFile.</summary>
    public string? Authority { get; set; }

    /// <summary>A JWKS (JSON) or PEM public key / certificate file holding the signing keys. Either this or Authority.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Expected "iss"; with Authority it comes from discovery, with KeyFile an empty value accepts any issuer.</summary>
    public string? Issuer { get; set; }

    /// <summary>Expected "aud": a token minted for another service is refused.</summary>
    public string? Audience { get; set; }

    /// <summary>A scope every token must carry (in "scope" or "scp"); empty means none is required.</summary>
    public string? RequiredScope { get; set; }

    /// <summary>The claim that names the user who owns runs.</summary>
    public string UserClaim { get; set; } = "sub";

    /// <summary>The claim holding roles, checked for AdminRole.</summary>
    public string RoleClaim { get; set; } = "roles";

    public string? AdminRole { get; set; }
    public string? AdminScope { get; set; }

    /// <summary>Discovery over plain http is only for tests and closed networks.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public double ClockSkewSeconds { get; set; } = 30;
}

/// <summary>What one client may send and how fast (Wes:Limits). Every refusal is an ErrorResponse: 413 or 429 (400 for JSON nested too deep).</summary>
public sealed class LimitOptions
{
    /// <summary>Largest request body (WES_MAX_REQUEST_BYTES); Kestrel's own default, kept so existing clients see no change.</summary>
    public long MaxRequestBodyBytes { get; set; } = 30_000_000;

    /// <summary>Most workflow_attachment parts in one submission.</summary>
    public int MaxAttachments { get; set; } = 1000;

    /// <summary>Most bytes of all attachments of one submission together.</summary>
    public long MaxAttachmentBytes { get; set; } = 30_000_000;

    /// <summary>Largest single field (workflow_params, tags, workflow_url, ...), in bytes as sent.</summary>
    public int MaxFieldBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Deepest nesting of a request's JSON, counting the RunRequest object as the first level. At most 64: stored
    /// requests are read back with System.Text.Json's default depth.
    /// </summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>
    /// Most values and property names in all of one request's JSON together. Twenty thousand File inputs fit; a body of
    /// bare numbers that would cost gigabytes as a document does not.
    /// </summary>
    public int MaxJsonElements { get; set; } = 100_000;

    /// <summary>QUEUED runs one user may have at once (WES_MAX_QUEUED_PER_USER); with auth off, all clients share one count.</summary>
    public int MaxQueuedRunsPerUser { get; set; } = 1000;

    /// <summary>Sustained requests per second per client (WES_RATE_LIMIT); 0 turns the limit off.</summary>
    public double RequestsPerSecond { get; set; } = 50;

    /// <summary>Requests a client may send at once before the sustained rate applies.</summary>
    public int RequestBurst { get; set; } = 200;
}

/// <summary>Where the server itself may fetch from (Wes:Fetch): public addresses only, unless allowed here.</summary>
public sealed class FetchOptions
{
    /// <summary>Host names ("git.internal", "*.corp.example"), addresses or CIDR ranges to allow anyway (WES_ALLOWED_FETCH_HOSTS).</summary>
    public string? AllowedHosts { get; set; }

    /// <summary>Also allow RFC 1918, fc00::/7 and 100.64/10 addresses (WES_ALLOW_PRIVATE_FETCH); loopback, link-local and metadata stay refused.</summary>
    public bool AllowPrivateNetworks { get; set; }

    public IReadOnlyList<string> AllowedHostList =>
        (AllowedHosts ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
