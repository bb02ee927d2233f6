using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Onboarding.ServiceDefaults.Http;

/// <summary>
/// Endpoint metadata naming the OpenAPI security scheme (header) an endpoint authenticates with, for modules whose callers
/// send another header than the customer's X-Api-Key (the redirect server's manufacturers). The module adds the definition.
/// </summary>
public sealed class SecuritySchemeMetadata(string schemeName)
{
    public string SchemeName { get; } = schemeName;
}

/// <summary>Marks in the OpenAPI document which operations need an API-key header (X-Api-Key unless the endpoint names another), so Swagger UI sends it.</summary>
internal sealed class ApiSecurityOperationFilter : IOperationFilter
{
    public const string SchemeName = "ApiKey";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        if (!metadata.OfType<IAuthorizeData>().Any() || metadata.OfType<IAllowAnonymous>().Any())
            return;

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(metadata.OfType<SecuritySchemeMetadata>().LastOrDefault()?.SchemeName ?? SchemeName, context.Document)] = [],
        });
    }
}
