using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Wes.Configuration;

namespace Wes.Security;

/// <summary>With auth on, the OpenAPI document says every operation takes a bearer token, so /scalar offers a field for it.</summary>
public sealed class BearerSecurityDocument(IOptions<WesOptions> options) : IOpenApiDocumentTransformer
{
    public const string SchemeName = "bearer";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var auth = options.Value.Auth;
        if (!auth.IsOn)
        {
            return Task.CompletedTask;
        }

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = auth.NormalizedMode == AuthOptions.ModeJwt ? "JWT" : null,
            Description = options.Value.ServiceInfo.AuthInstructionsUrl is { Length: > 0 } url ? $"How to get a token: {url}" : null,
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, document)] = [] }];
        return Task.CompletedTask;
    }
}
