using System.Text.Json.Serialization;

namespace Onboarding.Redirect.Serials;

/// <summary>Which field of an IDevID certificate holds the device serial.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SerialSource>))]
internal enum SerialSource
{
    /// <summary>Subject serialNumber (OID 2.5.4.5), as IEEE 802.1AR recommends.</summary>
    SubjectSerialNumber,

    /// <summary>Subject commonName (OID 2.5.4.3).</summary>
    SubjectCommonName,

    /// <summary>A subjectAltName dNSName (RFC 5280 §4.2.1.6).</summary>
    SanDnsName,

    /// <summary>A subjectAltName uniformResourceIdentifier (RFC 5280 §4.2.1.6).</summary>
    SanUri,

    /// <summary>A subjectAltName otherName hardwareModuleName (RFC 4108 §5): its hwSerialNum.</summary>
    SanHardwareModuleName,
}

/// <summary>
/// Where the serial is: a field, and optionally a regular expression over that field whose named group <c>serial</c> is
/// the serial (e.g. Cisco's CN <c>PID:C9300-48P SN:FCW2129G02U</c> with <c>SN:(?&lt;serial&gt;\S+)</c>). The field is
/// named explicitly: guessing "the last RDN" (as sztpd does) breaks on certificates that put the serial elsewhere.
/// </summary>
internal sealed record SerialRule(SerialSource Source, string? Pattern = null);
