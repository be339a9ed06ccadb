using System.Text.Json;
using System.Text.Json.Serialization;
using FluentValidation;
using Scalar.AspNetCore;
using Wes.Security;

using Wes.Persistence;

namespace Wes.Api;

public static class ApiExtensions
{
    /// <summary>The spec's base path first; /api/ga4gh/wes/v1 answers identically.</summary>
    public static readonly string[] BasePaths = ["/ga4gh/wes/v1", "/api/ga4gh/wes/v1"];

    public static IServiceCollection AddWesApi(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            // Optional fields the server has no value for are left out, never sent as null.
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = false);
        services.AddSingleton<IValidator<RunSubmission>, RunSubmissionValidator>();
        services.AddSingleton<RunSubmitter>();
        services.AddSingleton<SubmissionBatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<SubmissionBatcher>());
        services.AddSingleton<RunViews>();
        services.AddSingleton<PageTokens>();
        services.AddOpenApi(openApi => openApi.AddDocumentTransformer<BearerSecurityDocument>());
        return services.AddWesHealth();
    }

    public static WebApplication MapWesApi(this WebApplication app)
    {
        foreach (var basePath in BasePaths)
        {
            var group = app.MapGroup(basePath);
            // One policy for every WES endpoint, service-info included; run-scoped routes get the owner check from it.
            group.RequireAuthorization(AccessPolicy.Name).AddEndpointFilter(ApiErrors.AnswerRefusalsAsync)
                .WithMetadata(ApiErrors.Declared(StatusCodes.Status400BadRequest), ApiErrors.Declared(StatusCodes.Status401Unauthorized),
                    ApiErrors.Declared(StatusCodes.Status403Forbidden), ApiErrors.Declared(StatusCodes.Status429TooManyRequests),
                    ApiErrors.Declared(StatusCodes.Status500InternalServerError),
                    ApiErrors.Declared(StatusCodes.Status503ServiceUnavailable), ApiErrors.Declared(StatusCodes.Status507InsufficientStorage));
            var names = basePath == BasePaths[0] ? "" : "Api";
            group.MapServiceInfoEndpoints(names);
            group.MapRunEndpoints(names);
            group.MapRunFileEndpoints(names);
            group.MapDashboardEndpoints(names);
            if (basePath != BasePaths[0])
            {
                // One description of each operation in the OpenAPI document, under the spec's path.
                group.ExcludeFromDescription();
            }
        }

        app.MapWesHealth();
        app.MapOpenApi();
        app.MapScalarApiReference();
        return app;
    }
}
