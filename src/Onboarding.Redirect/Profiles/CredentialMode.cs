namespace Onboarding.Redirect.Profiles;

/// <summary>How the redirect server logs in to the NMS's SFTP drop (the bundle's <c>sftp.credential.mode</c>).</summary>
internal enum CredentialMode
{
    /// <summary>The passphrase the NMS issued, carried in the bundle.</summary>
    Passphrase,

    /// <summary>A client key this redirect server generates per profile; the customer registers its public half at the NMS.</summary>
    PublicKey,
}
