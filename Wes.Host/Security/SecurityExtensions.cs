using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Wes.Configuration;

namespace Wes.Security;

public static class SecurityExtensions
{
    /// <summary>Authentication (none, static tokens or JWT, chosen by Wes:Auth:Mode at start-up), the access policy and the request limits.</summary>
    public static IServiceCollection AddWesSecurity(this IServiceCollection services)
    {
        services.AddSingleton<StaticTokenTable>();
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, StaticTokenHandler>(AccessPolicy.TokenScheme, null)
            .AddJwtBearer(AccessPolicy.JwtScheme, _ => { });
        services.AddOptions<AuthenticationOptions>().Configure<IOptions<WesOptions>>((auth, wes) => auth.DefaultScheme = AccessPolicy.SchemeFor(wes.Value.Auth));
        services.AddOptions<JwtBearerOptions>(AccessPolicy.JwtScheme).Configure<IOptions<WesOptions>>((bearer, wes) =>
        {
            if (wes.Value.Auth.NormalizedMode == AuthOptions.ModeJwt)
            {
                JwtBearerSetup.Configure(bearer, wes.Value.Auth.Jwt);
            }
        });
        services.AddAuthorization();
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<WesOptions>>((authorization, wes) =>
            authorization.AddPolicy(AccessPolicy.Name, AccessPolicy.For(wes.Value.Auth)));
        services.AddSingleton<IAuthorizationHandler, RunAccessHandler>();
        services.AddSingleton<IAuthorizationHandler, ScopeHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, AuthorizationErrorResponses>();
        return services.AddWesAllowedHosts().AddWesRequestLimits();
    }

    /// <summary>
    /// Whether the request names this server, then who is calling, how often it may call, whether it may make this
    /// call, and how much it may send.
    /// </summary>
    public static WebApplication UseWesSecurity(this WebApplication app)
    {
        app.UseWesAllowedHosts();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseRequestBodyLimit();
        app.Lifetime.ApplicationStarted.Register(() => WarnIfOpen(app));
        return app;
    }

    /// <summary>The default address is localhost; someone who widened it without turning auth on should hear about it.</summary>
    private static void WarnIfOpen(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var exposed = addresses.Where(address => !IsLoopback(address)).ToList();
        if (exposed.Count > 0 && !app.Services.GetRequiredService<IOptions<WesOptions>>().Value.Auth.IsOn)
        {
            app.Logger.LogWarning(
                "Authentication is off (WES_AUTH_MODE=none) and the server listens on {Addresses}: anyone who can reach it can run " +
                "workflows as this user. Set WES_AUTH_MODE to token or jwt, or listen on localhost only.", string.Join(", ", exposed));
        }
    }

    private static bool IsLoopback(string address) =>
        Uri.TryCreate(address.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal),
            UriKind.Absolute, out var uri) && uri.IsLoopback;
}
