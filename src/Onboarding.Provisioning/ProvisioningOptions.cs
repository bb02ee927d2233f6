namespace Onboarding.Provisioning;

/// <summary>Settings under <c>Provisioning</c>.</summary>
internal sealed class ProvisioningOptions
{
    public const string SectionName = "Provisioning";

    /// <summary>How long one pre-configuration of a device may take in all (subsystem, edit, commit, verify, or every command).</summary>
    public TimeSpan ApplyTimeout { get; set; } = TimeSpan.FromMinutes(2);
}
