namespace Onboarding.Accounts.Contracts;

/// <summary>Read-only look-ups of customer accounts for other modules (e.g. where to e-mail the owner), so they never read accounts tables.</summary>
public interface ICustomerDirectory
{
    /// <summary>The customer's name and contact e-mail address, or null for an unknown id.</summary>
    Task<CustomerContact?> GetContactAsync(Guid customerId, CancellationToken cancellationToken);
}

public sealed record CustomerContact(Guid CustomerId, string Name, string ContactEmail);
