namespace Onboarding.ServiceDefaults.Keys;

/// <summary>The <c>KeyStore</c> configuration section.</summary>
public sealed class KeyStoreOptions
{
    public const string SectionName = "KeyStore";

    /// <summary>
    /// Where every private key and secret of this host lives (relative paths: to the content root). Unset means the
    /// per-user data directory (<c>~/.local/share/onboarding/keys</c>), never the source tree, so a host started from a
    /// checkout cannot leave key material where git would pick it up.
    /// </summary>
    public string? Directory { get; set; }
}
