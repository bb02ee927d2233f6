namespace Onboarding.Accounts.Contracts;

/// <summary>What the SFTP drop needs to know about manufacturer accounts.</summary>
public interface IManufacturerAccounts
{
    /// <summary>
    /// Checks an SFTP login. Returns the account only when the username exists, the passphrase matches the
    /// current one and the customer has not disabled the manufacturer. Timing does not reveal which failed.
    /// </summary>
    Task<ManufacturerAccount?> AuthenticateAsync(string sftpUsername, string passphrase, CancellationToken cancellationToken);
}

public sealed record ManufacturerAccount(Guid ManufacturerId, Guid CustomerId, string ManufacturerName, string SftpUsername);
