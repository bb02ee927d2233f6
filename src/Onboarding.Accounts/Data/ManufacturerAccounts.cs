using Microsoft.EntityFrameworkCore;
using Onboarding.Accounts.Contracts;
using Onboarding.Accounts.Security;

namespace Onboarding.Accounts.Data;

internal sealed class ManufacturerAccounts(AccountsDbContext db) : IManufacturerAccounts
{
    public async Task<ManufacturerAccount?> AuthenticateAsync(string sftpUsername, string passphrase, CancellationToken cancellationToken)
    {
        var manufacturer = await db.Manufacturers.AsNoTracking()
            .SingleOrDefaultAsync(m => m.SftpUsername == sftpUsername, cancellationToken);

        // Always pay for one PBKDF2 verification, so an unknown or disabled user answers as slowly as a wrong passphrase.
        var matches = PassphraseHasher.Verify(passphrase, manufacturer?.PassphraseHash ?? PassphraseHasher.Decoy);
        return manufacturer is { Enabled: true } && matches
            ? new ManufacturerAccount(manufacturer.Id, manufacturer.CustomerId, manufacturer.Name, manufacturer.SftpUsername)
            : null;
    }
}
