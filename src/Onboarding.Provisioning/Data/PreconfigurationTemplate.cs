namespace Onboarding.Provisioning.Data;

/// <summary>
/// A customer's pre-configuration for one device type (the device's <c>Model</c>), or <c>*</c> for every model that
/// has none of its own. <see cref="Body"/> may hold secrets (passwords for the device): it is returned to its owner
/// and sent to devices, never logged.
/// </summary>
internal sealed class PreconfigurationTemplate
{
    public const string AnyDeviceType = "*";

    public Guid CustomerId { get; set; }

    public required string DeviceType { get; set; }

    /// <summary><c>netconf</c> or <c>cli</c> (<see cref="Templates.TemplateKind"/>).</summary>
    public required string Kind { get; set; }

    public required string Body { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
