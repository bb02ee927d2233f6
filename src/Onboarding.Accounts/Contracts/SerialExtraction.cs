using System.Text.Json.Serialization;

namespace Onboarding.Accounts.Contracts;

/// <summary>Where a manufacturer puts the device serial number in its IDevID certificates.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SerialExtraction>))]
public enum SerialExtraction
{
    /// <summary>Subject serialNumber attribute (OID 2.5.4.5), as IEEE 802.1AR recommends.</summary>
    SubjectSerialNumber,

    /// <summary>Subject common name (OID 2.5.4.3), for manufacturers that put the serial there.</summary>
    SubjectCommonName,
}
