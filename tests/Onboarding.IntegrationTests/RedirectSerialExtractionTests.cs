using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Onboarding.Redirect.Orders;
using Onboarding.Redirect.Serials;

namespace Onboarding.IntegrationTests;

/// <summary>Serial extraction is a pure function over a certificate: test vectors for every source, and the refusals.</summary>
public class RedirectSerialExtractionTests
{
    [Fact]
    public void Cisco_common_name_with_a_regex_yields_the_serial_after_SN()
    {
        using var certificate = Certificate(subject => subject.AddCommonName("PID:C9300-48P SN:FCW2129G02U"));

        var result = SerialExtractor.Extract(certificate, new SerialRule(SerialSource.SubjectCommonName, @"SN:(?<serial>\S+)"));

        Assert.Equal("FCW2129G02U", result.Serial);
        Assert.Null(result.Error);
    }

    [Fact]
    public void Subject_serial_number_is_found_although_it_is_not_the_last_rdn()
    {
        // DER order serialNumber, CN, O, C: the last RDN is C=US, which a "last RDN" rule (sztpd) would take for the serial.
        using var certificate = Certificate(subject =>
        {
            subject.Add("2.5.4.5", "ABC123", UniversalTagNumber.PrintableString);
            subject.AddCommonName("router");
            subject.AddOrganizationName("Vendor");
            subject.AddCountryOrRegion("US");
        });
        Assert.Equal("2.5.4.6", certificate.SubjectName.EnumerateRelativeDistinguishedNames().Last().GetSingleElementType().Value);

        Assert.Equal("ABC123", SerialExtractor.Extract(certificate, new SerialRule(SerialSource.SubjectSerialNumber)).Serial);
        Assert.Equal("router", SerialExtractor.Extract(certificate, new SerialRule(SerialSource.SubjectCommonName)).Serial);
    }

    [Fact]
    public void Subject_serial_number_is_found_when_it_is_the_first_rdn_in_the_other_order_too()
    {
        using var certificate = Certificate(subject =>
        {
            subject.AddCountryOrRegion("US");
            subject.AddOrganizationName("Vendor");
            subject.Add("2.5.4.5", "XYZ789", UniversalTagNumber.PrintableString);
            subject.AddCommonName("router");
        });

        Assert.Equal("XYZ789", SerialExtractor.Extract(certificate, new SerialRule(SerialSource.SubjectSerialNumber)).Serial);
    }

    [Fact]
    public void San_dns_name_and_uri_and_hardware_module_name_each_yield_their_serial()
    {
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("sn-Q2XX-1234.devices.vendor.example");
        san.AddUri(new Uri("urn:vendor:serial:JN11AB2CDE"));
        var sanExtension = san.Build();
        // Re-encode with an otherName hardwareModuleName (RFC 4108 §5) appended: SubjectAlternativeNameBuilder cannot add one.
        using var certificate = Certificate(subject => subject.AddCommonName("device"),
            new X509Extension("2.5.29.17", AppendHardwareModuleName(sanExtension.RawData, "HW-0042"), critical: false));

        Assert.Equal("JN11AB2CDE", SerialExtractor.Extract(certificate, new SerialRule(SerialSource.SanUri, "^urn:vendor:serial:(?<serial>.+)$")).Serial);
        Assert.Equal("Q2XX-1234", SerialExtractor.Extract(certificate, new SerialRule(SerialSource.SanDnsName, @"^sn-(?<serial>[^.]+)\.")).Serial);
        Assert.Equal("sn-Q2XX-1234.devices.vendor.example", SerialExtractor.Extract(certificate, new SerialRule(SerialSource.SanDnsName)).Serial);
        Assert.Equal("HW-0042", SerialExtractor.Extract(certificate, new SerialRule(SerialSource.SanHardwareModuleName)).Serial);
    }

    [Fact]
    public void A_missing_field_an_ambiguous_field_and_a_pattern_that_does_not_match_are_errors_not_serials()
    {
        using var noSan = Certificate(subject => subject.AddCommonName("router"));
        var missing = SerialExtractor.Extract(noSan, new SerialRule(SerialSource.SubjectSerialNumber));
        Assert.Null(missing.Serial);
        Assert.Contains("no subject serialNumber", missing.Error, StringComparison.Ordinal);
        Assert.Contains("no subjectAltName URI", SerialExtractor.Extract(noSan, new SerialRule(SerialSource.SanUri)).Error, StringComparison.Ordinal);

        using var twoSerials = Certificate(subject =>
        {
            subject.Add("2.5.4.5", "A1", UniversalTagNumber.PrintableString);
            subject.Add("2.5.4.5", "B2", UniversalTagNumber.PrintableString);
        });
        Assert.Contains("exactly one", SerialExtractor.Extract(twoSerials, new SerialRule(SerialSource.SubjectSerialNumber)).Error, StringComparison.Ordinal);

        var noMatch = SerialExtractor.Extract(noSan, new SerialRule(SerialSource.SubjectCommonName, @"SN:(?<serial>\S+)"));
        Assert.Null(noMatch.Serial);
        Assert.Contains("matches no subject commonName", noMatch.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(@"SN:(\S+)", "named group 'serial'")]
    [InlineData(@"SN:(?<serial>\S+", "Not a valid regular expression")]
    [InlineData("", "1 to 512")]
    public void Unusable_patterns_are_refused_with_the_reason(string pattern, string reason)
    {
        Assert.Contains(reason, SerialExtractor.ValidatePattern(pattern), StringComparison.Ordinal);
    }

    [Fact]
    public void A_pathological_pattern_times_out_instead_of_holding_the_thread()
    {
        using var certificate = Certificate(subject => subject.AddCommonName(new string('a', 60) + "!"));
        var pattern = "^(?<serial>(a|aa)+)$";
        Assert.Null(SerialExtractor.ValidatePattern(pattern));

        var started = System.Diagnostics.Stopwatch.StartNew();
        var result = SerialExtractor.Extract(certificate, new SerialRule(SerialSource.SubjectCommonName, pattern));

        Assert.Null(result.Serial);
        Assert.Contains("took longer than", result.Error, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }

    [Fact]
    public void Order_transitions_follow_the_redirect_timeline_and_cancelling_ends_before_the_hand_off()
    {
        Assert.True(OrderTransitions.IsAllowed(null, OrderState.Ordered));
        Assert.True(OrderTransitions.IsAllowed(OrderState.Ordered, OrderState.Authenticated));
        Assert.True(OrderTransitions.IsAllowed(OrderState.Authenticated, OrderState.HandedOff));
        Assert.True(OrderTransitions.IsAllowed(OrderState.HandedOff, OrderState.Redirected));
        Assert.True(OrderTransitions.IsAllowed(OrderState.Ordered, OrderState.Cancelled));
        Assert.True(OrderTransitions.IsAllowed(OrderState.Authenticated, OrderState.Cancelled));

        Assert.False(OrderTransitions.IsAllowed(null, OrderState.Authenticated));
        Assert.False(OrderTransitions.IsAllowed(OrderState.Ordered, OrderState.HandedOff));
        Assert.False(OrderTransitions.IsAllowed(OrderState.Ordered, OrderState.Redirected));
        Assert.False(OrderTransitions.IsAllowed(OrderState.HandedOff, OrderState.Cancelled));
        Assert.False(OrderTransitions.IsAllowed(OrderState.Redirected, OrderState.Cancelled));
        foreach (var state in Enum.GetValues<OrderState>())
            Assert.False(OrderTransitions.IsAllowed(OrderState.Cancelled, state), $"Cancelled -> {state}");
    }

    private static X509Certificate2 Certificate(Action<X500DistinguishedNameBuilder> subject, X509Extension? extension = null)
    {
        var name = new X500DistinguishedNameBuilder();
        subject(name);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(name.Build(), key, HashAlgorithmName.SHA256);
        if (extension is not null)
            request.CertificateExtensions.Add(extension);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    private static byte[] AppendHardwareModuleName(byte[] generalNames, string serial)
    {
        var reader = new AsnReader(generalNames, AsnEncodingRules.DER).ReadSequence();
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            while (reader.HasData)
                writer.WriteEncodedValue(reader.ReadEncodedValue().Span);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                writer.WriteObjectIdentifier(SubjectAltNames.HardwareModuleNameOid);
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier("1.3.6.1.4.1.99999.1"); // hwType: the vendor's hardware type OID
                    writer.WriteOctetString(Encoding.ASCII.GetBytes(serial));
                }
            }
        }

        return writer.Encode();
    }
}
