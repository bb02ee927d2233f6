namespace Onboarding.HostKeys;

public sealed class HostKeysOptions
{
    /// <summary>The key store's subdirectory that holds the host keys unless <see cref="Directory"/> is set.</summary>
    public const string KeyStoreSubdirectory = "ssh-host-keys";

    /// <summary>
    /// Where the host keys are kept, relative to the content root unless absolute; unset: <c>ssh-host-keys</c> in the key
    /// store (<c>KeyStore:Directory</c>). Private keys are 0600, the directory 0700.
    /// </summary>
    public string? Directory { get; set; }

    public int RsaBits { get; set; } = 3072;
}
