using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace Wes.Security;

/// <summary>JWT bearer validation (WES_AUTH_MODE=jwt): signing keys from OIDC discovery or a local key file.</summary>
public static class JwtBearerSetup
{
    /// <summary>Asymmetric algorithms only: a symmetric or "none" token can never pass for one signed by the issuer.</summary>
    private static readonly string[] Algorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    public static void Configure(JwtBearerOptions bearer, JwtOptions jwt)
    {
        var hasAuthority = !string.IsNullOrWhiteSpace(jwt.Authority);
        // Claims keep the names the issuer gave them, so UserClaim and RoleClaim mean what the token says.
        bearer.MapInboundClaims = false;
        bearer.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
        bearer.Audience = jwt.Audience;
        if (hasAuthority)
        {
            bearer.Authority = jwt.Authority;
        }

        bearer.TokenValidationParameters = new TokenValidationParameters
        {
            ValidAudience = jwt.Audience,
            // With an authority the issuer comes from its discovery document.
            ValidateIssuer = hasAuthority || !string.IsNullOrWhiteSpace(jwt.Issuer),
            ValidIssuer = string.IsNullOrWhiteSpace(jwt.Issuer) ? null : jwt.Issuer,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.FromSeconds(jwt.ClockSkewSeconds),
            ValidAlgorithms = Algorithms,
            IssuerSigningKeys = hasAuthority ? null : JwtSigningKeys.Load(jwt.KeyFile!).Keys,
            NameClaimType = jwt.UserClaim,
            RoleClaimType = jwt.RoleClaim,
        };
        bearer.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                ToWesPrincipal(context, jwt);
                return Task.CompletedTask;
            },
        };
    }

    /// <summary>The scopes a token carries, from "scope" (space-separated) or "scp" (either form).</summary>
    public static IReadOnlySet<string> Scopes(ClaimsPrincipal principal) =>
        principal.FindAll(c => c.Type is "scope" or "scp")
            .SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToHashSet(StringComparer.Ordinal);

    private static void ToWesPrincipal(TokenValidatedContext context, JwtOptions jwt)
    {
        var token = context.Principal!;
        var user = token.FindFirst(jwt.UserClaim)?.Value;
        if (string.IsNullOrWhiteSpace(user) || user.Length > SecuritySettingsRules.MaxUserNameLength || user.Any(char.IsControl))
        {
            context.Fail($"The access token has no usable '{jwt.UserClaim}' claim to name the user.");
            return;
        }

        var admin = (!string.IsNullOrWhiteSpace(jwt.AdminRole) && token.FindAll(jwt.RoleClaim).Any(c => c.Value == jwt.AdminRole)) ||
            (!string.IsNullOrWhiteSpace(jwt.AdminScope) && Scopes(token).Contains(jwt.AdminScope));
        // The token's claims stay (the scope check reads them), but none of them may pose as one of the server's own.
        var identity = WesClaims.Identity(user, admin);
        identity.AddClaims(token.Claims.Where(c => !c.Type.StartsWith("wes:", StringComparison.Ordinal) && c.Type != ClaimTypes.Name)
            .Select(c => new Claim(c.Type, c.Value, c.ValueType, c.Issuer)));
        context.Principal = new ClaimsPrincipal(identity);
    }
}
