using Microsoft.AspNetCore.DataProtection;

namespace Onboarding.Redirect.Profiles;

/// <summary>
/// Encrypts the secrets an NMS profile must use again (the SFTP passphrase, the profile's SSH client key) with ASP.NET
/// Core Data Protection. Its keys live in the key store (<c>Redirect:DataProtectionDirectory</c>), so a database dump
/// alone reveals no secret. One purpose per kind of secret, so one ciphertext cannot be swapped in for another.
/// </summary>
internal sealed class ProfileSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _passphrase = provider.CreateProtector("Onboarding.Redirect.NmsProfile.SftpPassphrase.v1");
    private readonly IDataProtector _clientKey = provider.CreateProtector("Onboarding.Redirect.NmsProfile.SshClientKey.v1");

    public string ProtectPassphrase(string passphrase) => _passphrase.Protect(passphrase);

    public string UnprotectPassphrase(string protectedPassphrase) => _passphrase.Unprotect(protectedPassphrase);

    public string ProtectClientKey(string openSshPrivateKey) => _clientKey.Protect(openSshPrivateKey);

    public string UnprotectClientKey(string protectedKey) => _clientKey.Unprotect(protectedKey);
}
