using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Wes.Api;
using Wes.Configuration;

namespace Wes.Security;

/// <summary>How much a client may send, how slowly, and how often; each refusal is an ErrorResponse (413 or 429).</summary>
public static class RequestLimits
{
    public static IServiceCollection AddWesRequestLimits(this IServiceCollection services)
    {
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<WesOptions>>((kestrel, wes) =>
        {
            if (wes.ValueOrNull() is { } settings)
            {
                Configure(kestrel.Limits, settings.Limits);
            }
        });
        // POST /runs reads its multipart body itself (MultipartForm); these hold ASP.NET's form reader to the same limits.
        services.AddOptions<FormOptions>().Configure<IOptions<WesOptions>>((form, wes) =>
        {
            var limits = wes.Value.Limits;
            form.MultipartBodyLengthLimit = limits.MaxRequestBodyBytes;
            form.ValueLengthLimit = limits.MaxFieldBytes;
            form.ValueCountLimit = MultipartForm.MaxParts(limits);
        });
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<WesOptions>>((limiter, wes) => Configure(limiter, wes.Value.Limits));
        return services;
    }

    /// <summary>A body announced larger than the limit is refused before a byte of it is read.</summary>
    public static WebApplication UseRequestBodyLimit(this WebApplication app)
    {
        // Read per request: the pipeline is built before the settings are checked.
        var options = app.Services.GetRequiredService<IOptions<WesOptions>>();
        app.Use((context, next) => context.Request.ContentLength > options.Value.Limits.MaxRequestBodyBytes
            ? ApiErrors.WriteAsync(context.Response, StatusCodes.Status413PayloadTooLarge, BodyTooLarge(options.Value.Limits.MaxRequestBodyBytes))
            : next(context));
        return app;
    }

    public static string BodyTooLarge(long max) =>
        $"The request body is larger than {max} bytes (WES_MAX_REQUEST_BYTES).";

    private static void Configure(KestrelServerLimits limits, LimitOptions wes)
    {
        // Kestrel enforces this while reading, which also covers chunked bodies that announce no length.
        limits.MaxRequestBodySize = wes.MaxRequestBodyBytes;
        // A few kilobytes of JWT fit many times over; a bigger header block is a broken client or an attack (431).
        limits.MaxRequestHeadersTotalSize = 32 * 1024;
        limits.MaxRequestHeaderCount = 100;
        limits.MaxRequestLineSize = 8 * 1024;
        // Slow-header attacks (slowloris): the whole header block must arrive within 15 s.
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
        // Longer than the 60 s idle timeout of common load balancers, so the balancer closes an idle connection first
        // and never sends a request down one the server has just closed.
        limits.KeepAliveTimeout = TimeSpan.FromSeconds(75);
        // An upload that stalls (below 1 KB/s after a 10 s grace) gives its connection back; any real link is faster.
        limits.MinRequestBodyDataRate = new MinDataRate(1024, TimeSpan.FromSeconds(10));
        // The same for a client that stops reading a log it asked for.
        limits.MinResponseDataRate = new MinDataRate(240, TimeSpan.FromSeconds(10));
    }

    private static void Configure(RateLimiterOptions limiter, LimitOptions wes)
    {
        // Whole tokens per whole period: the partitioned limiter replenishes on a 100 ms timer, so shorter periods would drift.
        var period = wes.RequestsPerSecond >= 1 ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(1 / Math.Max(wes.RequestsPerSecond, 1e-6));
        var perPeriod = Math.Max(1, (int)Math.Round(wes.RequestsPerSecond));
        limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => wes.RequestsPerSecond <= 0
            ? RateLimitPartition.GetNoLimiter("")
            : RateLimitPartition.GetTokenBucketLimiter(ClientKey(context), _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = wes.RequestBurst,
                TokensPerPeriod = perPeriod,
                ReplenishmentPeriod = period,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
        limiter.OnRejected = (rejected, _) =>
        {
            var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
            rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return new ValueTask(ApiErrors.WriteAsync(rejected.HttpContext.Response, StatusCodes.Status429TooManyRequests,
                $"Too many requests from this client: at most {wes.RequestsPerSecond.ToString(CultureInfo.InvariantCulture)} per second " +
                $"(bursts of {wes.RequestBurst}). Retry after {seconds} s."));
        };
    }

    /// <summary>An authenticated user is one client wherever it connects from; otherwise the address (an IPv6 /64 is one client).</summary>
    public static string ClientKey(HttpContext context)
    {
        if (context.User.FindFirst(WesClaims.User)?.Value is { } user)
        {
            return "user:" + user;
        }

        var address = context.Connection.RemoteIpAddress;
        if (address is { IsIPv4MappedToIPv6: true })
        {
            address = address.MapToIPv4();
        }

        if (address?.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            address = new IPAddress(bytes);
        }

        return "ip:" + address;
    }
}
