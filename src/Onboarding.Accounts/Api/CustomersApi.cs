using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Onboarding.Accounts.Contracts;
using Onboarding.Accounts.Data;
using Onboarding.Accounts.Security;
using Onboarding.ServiceDefaults.Security;
using Onboarding.ServiceDefaults.Http;

namespace Onboarding.Accounts.Api;

internal static class CustomersApi
{
    public const string SignUpRateLimit = "sign-up";

    public static void MapCustomersApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/customers").WithTags("Customers");

        group.MapPost("/", SignUp)
            .WithName("SignUp")
            .WithSummary("Sign up as a customer; the response carries the API key, shown only once.")
            .AllowAnonymous()
            .RequireRateLimiting(SignUpRateLimit);

        group.MapGet("/me", GetProfile)
            .WithName("GetMyProfile")
            .WithSummary("The calling customer's profile.")
            .RequireAuthorization();

        group.MapPost("/me/api-key", RotateApiKey)
            .WithName("RotateApiKey")
            .WithSummary("Issue a new API key; the current one stops working at once.")
            .RequireAuthorization();
    }

    private static async Task<Results<Created<SignUpResponse>, ValidationProblem>> SignUp(
        SignUpRequest request, AccountsDbContext db, TimeProvider clock, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var validation = new FieldErrors();
        validation.RequireText("name", request.Name, 200);
        validation.RequireEmail("contactEmail", request.ContactEmail);
        if (request.NotificationWebhookUrl is not null)
            validation.Add("notificationWebhookUrl", "Configure owner notifications with PUT /api/notifications/webhook after sign-up (its signing secret is shown there once).");
        if (!validation.IsValid)
            return TypedResults.ValidationProblem(validation.Errors);

        var apiKey = ApiKey.Generate(ApiKeyAuthenticationHandler.Prefix);
        var customer = new Customer
        {
            Id = Guid.CreateVersion7(),
            Name = request.Name!.Trim(),
            ContactEmail = request.ContactEmail!.Trim(),
            ApiKeyId = apiKey.Id,
            ApiKeyHash = ApiKey.Hash(apiKey.Value),
            CreatedAt = clock.GetUtcNow(),
        };
        db.Customers.Add(customer);
        await db.SaveChangesAsync(cancellationToken);
        loggers.CreateLogger(typeof(CustomersApi)).LogInformation("Customer {CustomerId} signed up", customer.Id);

        return TypedResults.Created("/api/customers/me", new SignUpResponse(
            customer.Id, customer.Name, customer.ContactEmail, customer.CreatedAt, apiKey.Value));
    }

    private static async Task<Ok<CustomerProfile>> GetProfile(ClaimsPrincipal user, AccountsDbContext db, CancellationToken cancellationToken)
    {
        var id = user.GetCustomerId();
        var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Id == id, cancellationToken);
        return TypedResults.Ok(new CustomerProfile(customer.Id, customer.Name, customer.ContactEmail, customer.CreatedAt));
    }

    private static async Task<Ok<ApiKeyRotated>> RotateApiKey(ClaimsPrincipal user, AccountsDbContext db, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var id = user.GetCustomerId();
        var customer = await db.Customers.SingleAsync(c => c.Id == id, cancellationToken);
        var apiKey = ApiKey.Generate(ApiKeyAuthenticationHandler.Prefix);
        customer.ApiKeyId = apiKey.Id;
        customer.ApiKeyHash = ApiKey.Hash(apiKey.Value);
        await db.SaveChangesAsync(cancellationToken);
        loggers.CreateLogger(typeof(CustomersApi)).LogInformation("Customer {CustomerId} rotated its API key", customer.Id);
        return TypedResults.Ok(new ApiKeyRotated(apiKey.Value));
    }
}
