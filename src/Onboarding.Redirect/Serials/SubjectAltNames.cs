using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Onboarding.Redirect.Serials;

/// <summary>The subjectAltName entries serial extraction can use, decoded from the extension's DER (RFC 5280 §4.2.1.6).</summary>
internal sealed record SubjectAltNames(List<string> DnsNames, List<string> Uris, List<string> HardwareSerials)
{
    private const string SubjectAltNameOid = "2.5.29.17";

    /// <summary>RFC 4108 §5: id-on-hardwareModuleName.</summary>
    public const string HardwareModuleNameOid = "1.3.6.1.5.5.7.8.4";

    private static readonly Asn1Tag OtherName = new(TagClass.ContextSpecific, 0, isConstructed: true);
    private static readonly Asn1Tag DnsName = new(TagClass.ContextSpecific, 2);
    private static readonly Asn1Tag Uri = new(TagClass.ContextSpecific, 6);
    private static readonly Asn1Tag OtherNameValue = new(TagClass.ContextSpecific, 0, isConstructed: true);

    public static SubjectAltNames Read(X509Certificate2 certificate)
    {
        var names = new SubjectAltNames([], [], []);
        var extension = certificate.Extensions[SubjectAltNameOid];
        if (extension is null)
            return names;

        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            var generalNames = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            while (generalNames.HasData)
            {
                var tag = generalNames.PeekTag();
                if (tag == DnsName)
                    names.DnsNames.Add(generalNames.ReadCharacterString(UniversalTagNumber.IA5String, DnsName));
                else if (tag == Uri)
                    names.Uris.Add(generalNames.ReadCharacterString(UniversalTagNumber.IA5String, Uri));
                else if (tag == OtherName)
                    ReadOtherName(generalNames.ReadSequence(OtherName), names);
                else
                    generalNames.ReadEncodedValue(); // other kinds (IP address, directoryName, …) carry no serial here
            }
        }
        catch (AsnContentException ex)
        {
            throw new CryptographicException("The certificate's subjectAltName extension is malformed.", ex);
        }

        return names;
    }

    /// <summary>OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }; HardwareModuleName ::= SEQUENCE { hwType OID, hwSerialNum OCTET STRING }.</summary>
    private static void ReadOtherName(AsnReader otherName, SubjectAltNames names)
    {
        var typeId = otherName.ReadObjectIdentifier();
        var value = otherName.ReadSequence(OtherNameValue);
        if (typeId != HardwareModuleNameOid)
            return;
        var hardwareModule = value.ReadSequence();
        hardwareModule.ReadObjectIdentifier();
        var serial = hardwareModule.ReadOctetString();
        // hwSerialNum is an OCTET STRING; manufacturers put printable ASCII there. Anything else is not a usable serial.
        if (serial.Length > 0 && serial.All(b => b is >= 0x21 and <= 0x7e))
            names.HardwareSerials.Add(Encoding.ASCII.GetString(serial));
    }
}
