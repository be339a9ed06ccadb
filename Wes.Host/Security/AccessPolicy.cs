using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Wes.Persistence;

namespace Wes.Security;

/// <summary>
/// The one policy on every WES endpoint. With auth on: an authenticated caller, the required scope (jwt), and for any
/// route with a {run_id}, ownership of that run (or admin). Being route-based, it covers every run-scoped endpoint
/// mapped under the API's base paths, including ones added later.
/// </summary>
public static class AccessPolicy
{
    public const string Name = "wes";
    public const string TokenScheme = "WesToken";
    public const string JwtScheme = JwtBearerDefaults.AuthenticationScheme;

    public static string? SchemeFor(AuthOptions auth) => auth.NormalizedMode switch
    {
        AuthOptions.ModeToken => TokenScheme,
        AuthOptions.ModeJwt => JwtScheme,
        _ => null,
    };

    public static AuthorizationPolicy For(AuthOptions auth)
    {
        var policy = new AuthorizationPolicyBuilder();
        if (SchemeFor(auth) is not { } scheme)
        {
            return policy.RequireAssertion(_ => true).Build();
        }

        policy.AddAuthenticationSchemes(scheme).RequireAuthenticatedUser().RequireClaim(WesClaims.User);
        if (auth.NormalizedMode == AuthOptions.ModeJwt && !string.IsNullOrWhiteSpace(auth.Jwt.RequiredScope))
        {
            policy.AddRequirements(new ScopeRequirement(auth.Jwt.RequiredScope));
        }

        return policy.AddRequirements(new RunAccessRequirement()).Build();
    }
}

public sealed record ScopeRequirement(string Scope) : IAuthorizationRequirement;

public sealed class ScopeHandler : AuthorizationHandler<ScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (JwtBearerSetup.Scopes(context.User).Contains(requirement.Scope))
        {
            context.Succeed(requirement);
        }
        else if (context.User.Identity?.IsAuthenticated == true)
        {
            context.Fail(new AuthorizationFailureReason(this, $"The access token lacks the scope '{requirement.Scope}' this server requires."));
        }

        return Task.CompletedTask;
    }
}

public sealed class RunAccessRequirement : IAuthorizationRequirement;

/// <summary>A run is the business of its owner and of admins; runs without an owner (from before auth) of admins only.</summary>
public sealed class RunAccessHandler(RunStore store) : AuthorizationHandler<RunAccessRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, RunAccessRequirement requirement)
    {
        if (context.User.FindFirst(WesClaims.User)?.Value is not { } user)
        {
            return;
        }

        var http = context.Resource as HttpContext;
        if (http?.GetRouteValue("run_id") is not string runId || context.User.HasClaim(WesClaims.Admin, "true"))
        {
            context.Succeed(requirement);
            return;
        }

        // An unknown run passes here and gets its 404 from the endpoint.
        var run = await store.GetOwnershipAsync(runId, http.RequestAborted);
        if (run is null || string.Equals(run.Owner, user, StringComparison.Ordinal))
        {
            context.Succeed(requirement);
            return;
        }

        context.Fail(new AuthorizationFailureReason(this, run.Owner is null
            ? $"Run '{runId}' was submitted before authentication was turned on; only an admin may see it."
            : $"Run '{runId}' belongs to another user."));
    }
}
