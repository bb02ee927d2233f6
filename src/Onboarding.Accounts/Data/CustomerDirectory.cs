using Microsoft.EntityFrameworkCore;
using Onboarding.Accounts.Contracts;

namespace Onboarding.Accounts.Data;

internal sealed class CustomerDirectory(AccountsDbContext db) : ICustomerDirectory
{
    public Task<CustomerContact?> GetContactAsync(Guid customerId, CancellationToken cancellationToken) =>
        db.Customers.AsNoTracking().Where(c => c.Id == customerId)
            .Select(c => new CustomerContact(c.Id, c.Name, c.ContactEmail))
            .SingleOrDefaultAsync(cancellationToken);
}
