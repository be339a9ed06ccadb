using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Wes.Persistence;

namespace Wes.Api;

/// <summary>A request the API refuses, with the status and message the client gets as an ErrorResponse.</summary>
/// <remarks>A cause, if given, is logged and never sent: its message may name server paths.</remarks>
public sealed class ApiException(int statusCode, string message, Exception? cause = null) : Exception(message, cause)
{
    public int StatusCode { get; } = statusCode;
}

public static class ApiErrors
{
    /// <summary>How long a client is asked to wait (Retry-After) while the database is unavailable.</summary>
    public const int UnavailableRetryAfterSeconds = 30;

    /// <summary>Writes an ErrorResponse with its status: the one shape of every error the server answers.</summary>
    public static Task WriteAsync(HttpResponse response, int statusCode, string message)
    {
        response.StatusCode = statusCode;
        return response.WriteAsJsonAsync(new ErrorResponse(message, statusCode));
    }

    /// <summary>An error status an operation may answer, with the ErrorResponse body, for the OpenAPI document.</summary>
    public static ProducesResponseTypeMetadata Declared(int statusCode) =>
        new(statusCode, typeof(ErrorResponse), ["application/json"]);

    /// <summary>A refused request is answered where it is refused, without being logged as a server failure.</summary>
    public static async ValueTask<object?> AnswerRefusalsAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (ApiException ex)
        {
            if (ex.InnerException is { } cause)
            {
                context.HttpContext.RequestServices.GetRequiredService<ILogger<ApiException>>()
                    .LogWarning(cause, "Refused {Method} {Path} with {Status}: {Message}", context.HttpContext.Request.Method,
                        context.HttpContext.Request.Path, ex.StatusCode, ex.Message);
            }

            return TypedResults.Json(new ErrorResponse(ex.Message, ex.StatusCode), statusCode: ex.StatusCode);
        }
        catch (BadHttpRequestException ex)
        {
            return TypedResults.Json(new ErrorResponse(ex.Message, ex.StatusCode), statusCode: ex.StatusCode);
        }
    }

    /// <summary>
    /// Every error leaves as an ErrorResponse: thrown ApiExceptions and Kestrel's bad-request errors with their own
    /// status, a full disk as 507 and a database that cannot be written or reached as 503 with Retry-After, anything
    /// unexpected as 500 without internals, and bodiless 4xx/5xx (unknown route, wrong method, failed parameter
    /// binding) through the status-code pages.
    /// </summary>
    public static WebApplication UseWesErrors(this WebApplication app)
    {
        app.UseExceptionHandler(errorApp => errorApp.Run(async context =>
        {
            var failure = context.Features.Get<IExceptionHandlerFeature>();
            var error = failure?.Error;
            var (status, message) = error switch
            {
                ApiException api => (api.StatusCode, api.Message),
                BadHttpRequestException bad => (bad.StatusCode, bad.Message),
                not null when StorageFaultAnswer(error, IsSubmission(failure!)) is { } storage => storage,
                _ => (StatusCodes.Status500InternalServerError, "An unexpected error occurred; the server log has the details."),
            };
            if (status == StatusCodes.Status503ServiceUnavailable)
            {
                context.Response.Headers.RetryAfter = UnavailableRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            }

            await WriteAsync(context.Response, status, message);
        }));
        app.UseStatusCodePages(async statusContext =>
        {
            var response = statusContext.HttpContext.Response;
            var message = response.StatusCode switch
            {
                401 => "This request needs valid credentials.",
                403 => "These credentials do not allow this request.",
                404 => $"No such resource: {statusContext.HttpContext.Request.Path}.",
                405 => $"Method {statusContext.HttpContext.Request.Method} is not allowed on {statusContext.HttpContext.Request.Path}.",
                413 => "The request is too large.",
                415 => "Unsupported content type.",
                429 => "Too many requests; retry later.",
                503 => "The server is unavailable right now; retry later.",
                507 => "The server is out of disk space; retry once its operator has freed space.",
                >= 500 => "The server could not answer this request; the server log has the details.",
                _ => "The request is malformed.",
            };
            await WriteAsync(response, response.StatusCode, message);
        });
        return app;
    }

    /// <summary>
    /// 507 for a full disk, 503 for a database that cannot be written or reached; null for any other failure. A
    /// failed write changed nothing (a submission removes what it staged), and the message never names a server path.
    /// </summary>
    public static (int Status, string Message)? StorageFaultAnswer(Exception error, bool submission)
    {
        var outcome = submission ? "the run was not submitted" : "the request was not carried out";
        return StorageFaults.Classify(error) switch
        {
            StorageFault.OutOfSpace => (StatusCodes.Status507InsufficientStorage,
                $"The server is out of disk space; {outcome}. Retry once the server's operator has freed space."),
            StorageFault.Unavailable => (StatusCodes.Status503ServiceUnavailable,
                $"The server's database or storage is unavailable (read-only, locked or unreachable); {outcome}. " +
                $"Retry in {UnavailableRetryAfterSeconds} seconds; if this persists, the server log has the cause."),
            _ => null,
        };
    }

    private static bool IsSubmission(IExceptionHandlerFeature failure) =>
        failure.Endpoint?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName.EndsWith("RunWorkflow", StringComparison.Ordinal) == true;
}
