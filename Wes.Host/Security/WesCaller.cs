using System.Security.Claims;
using Microsoft.Extensions.Options;
using Wes.Api;
using Wes.Configuration;

namespace Wes.Security;

/// <summary>The claims every authentication mode leaves on the caller, whatever its tokens called them.</summary>
public static class WesClaims
{
    public const string User = "wes:user";
    public const string Admin = "wes:admin";
    public const string AuthenticationType = "wes";

    public static ClaimsIdentity Identity(string user, bool admin) => new(
        [new Claim(User, user), new Claim(Admin, admin ? "true" : "false"), new Claim(ClaimTypes.Name, user)],
        AuthenticationType, ClaimTypes.Name, null);
}

/// <summary>
/// Who is calling, as the run endpoints need it: the user that owns what it submits, and whether it may see every
/// run. Bound as an endpoint parameter. With authentication off there is no user, runs get no owner and every
/// caller sees every run.
/// </summary>
public sealed record WesCaller(string? User, bool IsAdmin)
{
    public static readonly WesCaller Anonymous = new(null, false);

    /// <summary>The owner to filter listings by, or null when this caller sees every run.</summary>
    public string? ListingOwner => User is null || IsAdmin ? null : User;

    /// <summary>The actor recorded in the state history.</summary>
    public string Actor => User is null ? "api" : "api:" + User;

    public static ValueTask<WesCaller?> BindAsync(HttpContext context)
    {
        if (context.User.FindFirst(WesClaims.User)?.Value is { } user)
        {
            return ValueTask.FromResult<WesCaller?>(new WesCaller(user, context.User.HasClaim(WesClaims.Admin, "true")));
        }

        // Behind the API's policy an unauthenticated caller never gets here with auth on; this guards any endpoint
        // mapped without it from treating a stranger as "authentication off".
        return context.RequestServices.GetRequiredService<IOptions<WesOptions>>().Value.Auth.IsOn
            ? throw new ApiException(StatusCodes.Status401Unauthorized, "This request needs a bearer token.")
            : ValueTask.FromResult<WesCaller?>(Anonymous);
    }
}
