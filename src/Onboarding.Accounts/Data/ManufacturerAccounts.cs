using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Onboarding.Accounts.Contracts;
using Onboarding.Accounts.Security;
using Onboarding.Ssh.Keys;

namespace Onboarding.Accounts.Data;

internal sealed class ManufacturerAccounts(AccountsDbContext db, FactoryCaCache factoryCas) : IManufacturerAccounts
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

    public async Task<ManufacturerAccount?> AuthenticateByPublicKeyAsync(string sftpUsername, string publicKeyFingerprint, CancellationToken cancellationToken)
    {
        var manufacturer = await db.Manufacturers.AsNoTracking()
            .SingleOrDefaultAsync(m => m.SftpUsername == sftpUsername && m.Enabled && m.SftpPublicKey != null, cancellationToken);
        if (manufacturer is null)
            return null;
        var registered = SshPublicKey.ParseAuthorizedKeysLine(manufacturer.SftpPublicKey!).Fingerprint;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(registered), Encoding.UTF8.GetBytes(publicKeyFingerprint))
            ? new ManufacturerAccount(manufacturer.Id, manufacturer.CustomerId, manufacturer.Name, manufacturer.SftpUsername)
            : null;
    }

    public async Task<ManufacturerTrust?> GetTrustAsync(Guid manufacturerId, CancellationToken cancellationToken)
    {
        var manufacturer = await db.Manufacturers.AsNoTracking().Include(m => m.Customer)
            .SingleOrDefaultAsync(m => m.Id == manufacturerId, cancellationToken);
        if (manufacturer is null)
            return null;

        return new ManufacturerTrust(manufacturer.Id, manufacturer.Name, manufacturer.CustomerId, manufacturer.Customer!.Name,
            manufacturer.Enabled, factoryCas.Get(manufacturer.Id, manufacturer.CaCertificatesPem), manufacturer.SerialExtraction)
        {
            CallHomeStyle = manufacturer.CallHomeStyle,
        };
    }

    public Task<bool> IsOwnedByAsync(Guid manufacturerId, Guid customerId, CancellationToken cancellationToken) =>
        db.Manufacturers.AnyAsync(m => m.Id == manufacturerId && m.CustomerId == customerId, cancellationToken);
}
