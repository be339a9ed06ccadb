using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Wes.Api;
using Wes.Configuration;

namespace Wes.Security;

/// <summary>
/// Answers a refused request as a WES ErrorResponse: 401 (after the scheme's challenge has set WWW-Authenticate) with
/// what was wrong with the credentials, or 403 with the reason the policy gave. Nothing internal reaches the body.
/// </summary>
public sealed class AuthorizationErrorResponses(IOptions<WesOptions> options) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged)
        {
            foreach (var scheme in policy.AuthenticationSchemes)
            {
                await context.ChallengeAsync(scheme);
            }

            await ApiErrors.WriteAsync(context.Response, StatusCodes.Status401Unauthorized, await ChallengeMessageAsync(context, policy));
        }
        else if (authorizeResult.Forbidden)
        {
            var reason = authorizeResult.AuthorizationFailure?.FailureReasons.FirstOrDefault();
            if (reason?.Handler is ScopeHandler)
            {
                // RFC 6750: a valid token without the needed scope.
                context.Response.Headers.WWWAuthenticate = $"Bearer error=\"insufficient_scope\", scope=\"{options.Value.Auth.Jwt.RequiredScope}\"";
            }

            await ApiErrors.WriteAsync(context.Response, StatusCodes.Status403Forbidden, reason?.Message ?? "These credentials do not allow this request.");
        }
        else
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
        }
    }

    private async Task<string> ChallengeMessageAsync(HttpContext context, AuthorizationPolicy policy)
    {
        var result = policy.AuthenticationSchemes.Count > 0 ? await context.AuthenticateAsync(policy.AuthenticationSchemes[0]) : AuthenticateResult.NoResult();
        if (result.Failure is { } failure)
        {
            return Describe(failure);
        }

        var instructions = options.Value.ServiceInfo.AuthInstructionsUrl;
        return "This server requires a bearer token: send 'Authorization: Bearer <token>'." +
            (string.IsNullOrWhiteSpace(instructions) ? "" : $" How to get one: {instructions}");
    }

    /// <summary>What a client can act on; token handlers' own messages carry internals (key ids, library codes).</summary>
    private static string Describe(Exception failure) => failure switch
    {
        AggregateException { InnerExceptions.Count: > 0 } many => Describe(many.InnerExceptions[0]),
        AuthenticationFailureException own => own.Message,
        SecurityTokenExpiredException => "The access token has expired.",
        SecurityTokenNotYetValidException => "The access token is not valid yet.",
        SecurityTokenInvalidAudienceException => "The access token was issued for another audience.",
        SecurityTokenInvalidIssuerException => "The access token was issued by an issuer this server does not trust.",
        SecurityTokenInvalidAlgorithmException => "The access token is signed with an algorithm this server does not accept.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException =>
            "The access token's signature does not verify with this server's keys.",
        SecurityTokenException or ArgumentException => "The access token is not valid.",
        _ => "The access token could not be checked; the identity provider may be unreachable.",
    };
}
