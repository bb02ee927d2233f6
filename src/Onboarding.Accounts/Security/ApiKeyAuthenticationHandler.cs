using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.Accounts.Data;
using Onboarding.ServiceDefaults.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Onboarding.Accounts.Security;

/// <summary>Authenticates a customer by the <c>X-Api-Key</c> header (<see cref="ApiKeyHandler"/>).</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    AccountsDbContext db,
    [FromKeyedServices(AccountsModule.ThrottleKey)] FailedAuthenticationThrottle throttle,
    IProblemDetailsService problemDetails)
    : ApiKeyHandler(options, loggerFactory, encoder, throttle, problemDetails)
{
    public const string Header = "X-Api-Key";

    /// <summary>A customer's NMS key; a redirect server's manufacturer key has another prefix and never matches.</summary>
    public const string Prefix = "onb_";

    protected override string HeaderName => Header;

    protected override string KeyPrefix => Prefix;

    protected override string KeyName => "API key";

    protected override string Advice => $"Send a valid API key in the {Header} header.";

    protected override async Task<(Claim Tenant, byte[] KeyHash)?> FindAsync(string keyId, CancellationToken cancellationToken)
    {
        var customer = await db.Customers.AsNoTracking().Where(c => c.ApiKeyId == keyId)
            .Select(c => new { c.Id, c.ApiKeyHash }).SingleOrDefaultAsync(cancellationToken);
        return customer is null ? null : (new Claim(CustomerClaims.CustomerId, customer.Id.ToString()), customer.ApiKeyHash);
    }
}
