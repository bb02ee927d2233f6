using System.Globalization;
using System.Net;

namespace Onboarding.Provisioning.Templates;

/// <summary>
/// What a template may refer to. Names are the keys of <see cref="ToDictionary"/>; a variable whose value is unknown
/// (the call-home address in a preview without <c>address</c>) is left out, so strict mode reports it by name.
/// </summary>
internal sealed record TemplateVariables(
    string Serial,
    string DeviceId,
    string Model,
    string CustomerId,
    string Customer,
    string ManufacturerId,
    string Manufacturer,
    string? Address)
{
    public static readonly IReadOnlyList<string> Names = ["serial", "deviceId", "model", "customerId", "customer", "manufacturerId", "manufacturer", "address"];

    /// <summary>Values for the trial render on PUT: every variable set, to documentation values (RFC 5737 for the address).</summary>
    public static TemplateVariables Sample { get; } = new("SN-SAMPLE-0001", Guid.Empty.ToString(), "sample-model", Guid.Empty.ToString(),
        "Sample Customer", Guid.Empty.ToString(), "Sample Manufacturer", "192.0.2.1");

    /// <summary>The device's side of a call-home connection: an IPv4-mapped IPv6 address is shown as IPv4.</summary>
    public static string? AddressOf(EndPoint? remote) => remote switch
    {
        IPEndPoint ip => (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address).ToString(),
        DnsEndPoint dns => dns.Host,
        _ => null,
    };

    public Dictionary<string, object> ToDictionary()
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["serial"] = Serial,
            ["deviceId"] = DeviceId,
            ["model"] = Model,
            ["customerId"] = CustomerId,
            ["customer"] = Customer,
            ["manufacturerId"] = ManufacturerId,
            ["manufacturer"] = Manufacturer,
        };
        if (Address is not null)
            values["address"] = Address;
        return values;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Serial} ({DeviceId})");
}
