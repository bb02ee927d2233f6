using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace Onboarding.Redirect.Serials;

/// <summary>The serial, or why the certificate has none under the rule.</summary>
internal readonly record struct SerialExtraction(string? Serial, string? Error)
{
    public static SerialExtraction Found(string serial) => new(serial, null);

    public static SerialExtraction Failed(string error) => new(null, error);
}

/// <summary>Reads a device serial out of an IDevID certificate by a <see cref="SerialRule"/>. Pure: no I/O, no state.</summary>
internal static class SerialExtractor
{
    public const string GroupName = "serial";
    public const int MaxPatternLength = 512;

    /// <summary>A pattern runs on every device request: a pathological one must not hold a thread.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    private const string SerialNumberOid = "2.5.4.5";
    private const string CommonNameOid = "2.5.4.3";

    /// <summary>Null when the pattern is usable, otherwise the reason (for a 400 at registration).</summary>
    public static string? ValidatePattern(string pattern)
    {
        if (pattern.Length is 0 or > MaxPatternLength)
            return $"Must be 1 to {MaxPatternLength} characters.";
        Regex regex;
        try
        {
            regex = Compile(pattern);
        }
        catch (ArgumentException ex)
        {
            return $"Not a valid regular expression: {ex.Message}";
        }

        return regex.GetGroupNames().Contains(GroupName, StringComparer.Ordinal)
            ? null
            : $"Must have a named group '{GroupName}', e.g. SN:(?<{GroupName}>\\S+).";
    }

    public static SerialExtraction Extract(X509Certificate2 certificate, SerialRule rule)
    {
        var candidates = rule.Source switch
        {
            SerialSource.SubjectSerialNumber => SubjectValues(certificate.SubjectName, SerialNumberOid),
            SerialSource.SubjectCommonName => SubjectValues(certificate.SubjectName, CommonNameOid),
            SerialSource.SanDnsName => SubjectAltNames.Read(certificate).DnsNames,
            SerialSource.SanUri => SubjectAltNames.Read(certificate).Uris,
            SerialSource.SanHardwareModuleName => SubjectAltNames.Read(certificate).HardwareSerials,
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule.Source, "Unknown serial source."),
        };

        if (candidates.Count == 0)
            return SerialExtraction.Failed($"The certificate has no {Describe(rule.Source)}.");

        if (rule.Pattern is null)
        {
            return candidates.Count == 1 && candidates[0].Length > 0
                ? SerialExtraction.Found(candidates[0])
                : SerialExtraction.Failed($"The certificate has {candidates.Count} values of {Describe(rule.Source)}; the serial must be exactly one.");
        }

        // With a pattern, the serial is the one candidate it matches (e.g. the one URI of the form urn:…:serial:X).
        var regex = Compile(rule.Pattern);
        var serials = new List<string>();
        foreach (var candidate in candidates)
        {
            try
            {
                var match = regex.Match(candidate);
                if (match.Success && match.Groups[GroupName] is { Success: true, Length: > 0 } group)
                    serials.Add(group.Value);
            }
            catch (RegexMatchTimeoutException)
            {
                return SerialExtraction.Failed($"The serial pattern took longer than {MatchTimeout.TotalMilliseconds} ms.");
            }
        }

        return serials.Distinct(StringComparer.Ordinal).Count() switch
        {
            1 => SerialExtraction.Found(serials[0]),
            0 => SerialExtraction.Failed($"The serial pattern matches no {Describe(rule.Source)}."),
            _ => SerialExtraction.Failed($"The serial pattern matches several {Describe(rule.Source)} values with different serials."),
        };
    }

    private static Regex Compile(string pattern) =>
        new(pattern, RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, MatchTimeout);

    /// <summary>Every value of the attribute, wherever its RDN stands: the order of RDNs differs between manufacturers.</summary>
    private static List<string> SubjectValues(X500DistinguishedName subject, string oid)
    {
        var values = new List<string>();
        foreach (var rdn in subject.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == oid && rdn.GetSingleElementValue() is { } value)
                values.Add(value);
        }

        return values;
    }

    private static string Describe(SerialSource source) => source switch
    {
        SerialSource.SubjectSerialNumber => "subject serialNumber",
        SerialSource.SubjectCommonName => "subject commonName",
        SerialSource.SanDnsName => "subjectAltName dNSName",
        SerialSource.SanUri => "subjectAltName URI",
        _ => "subjectAltName hardwareModuleName",
    };
}
