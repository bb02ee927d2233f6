using System.Security.Claims;

namespace Onboarding.Accounts.Contracts;

/// <summary>How other modules learn which customer (tenant) is calling.</summary>
public static class CustomerClaims
{
    public const string AuthenticationScheme = "ApiKey";
    public const string CustomerId = "onboarding:customer_id";

    /// <summary>The calling customer's id; only valid on endpoints that require authorization.</summary>
    public static Guid GetCustomerId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(CustomerId) ?? throw new InvalidOperationException("The caller is not an authenticated customer."));
}
