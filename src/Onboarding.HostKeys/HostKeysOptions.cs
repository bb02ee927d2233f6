namespace Onboarding.HostKeys;

public sealed class HostKeysOptions
{
    /// <summary>Where the host keys are kept, relative to the content root unless absolute. Private keys are 0600.</summary>
    public string Directory { get; set; } = "keys";

    public int RsaBits { get; set; } = 3072;
}
