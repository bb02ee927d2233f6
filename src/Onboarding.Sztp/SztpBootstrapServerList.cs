using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Onboarding.Sztp;

/// <summary>
/// The value of DHCPv4 option 143 (RFC 8572 §8.1) and DHCPv6 option 136 (§8.2): the sztp-bootstrap-server-list of
/// §8.3, each URI as <c>uri-length</c> (2 octets, network order) followed by the URI's octets, no terminator.
/// </summary>
public static class SztpBootstrapServerList
{
    /// <summary>RFC 8572 §8.2: option-len is 16 bits, so the whole list of a DHCPv6 option fits in 65,535 octets.</summary>
    public const int MaxDhcpv6Length = ushort.MaxValue;

    /// <summary>
    /// RFC 2132 §2: a DHCPv4 option's length is one octet. RFC 8572 §8.1 lets a longer list be split over several
    /// option 143 instances (RFC 3396); we do not split, because dnsmasq has no way to send a split option.
    /// </summary>
    public const int MaxDhcpv4Length = byte.MaxValue;

    /// <summary>
    /// Encodes <paramref name="uris"/> in order, after checking each is a bootstrap server's base URL: RFC 8572 §8.3
    /// requires the form <c>"https://" ipv4-address-or-hostname [":" port]</c> (we also take a bracketed IPv6 literal,
    /// which DHCPv6 networks need); the device appends the RESTCONF path itself, so any path, query, fragment or user
    /// information is refused. Each URI is encoded exactly as given, so what the operator typed is what devices get.
    /// </summary>
    public static bool TryEncode(IReadOnlyList<string> uris, [NotNullWhen(true)] out byte[]? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        if (uris.Count == 0)
        {
            error = "give at least one bootstrap server URI, e.g. https://redirect.example:8443";
            return false;
        }

        var total = 0;
        foreach (var uri in uris)
        {
            // Checked first, so that a huge operand gets this answer rather than one about its contents.
            if (uri.Length > ushort.MaxValue)
            {
                error = $"URI of {uri.Length} characters: uri-length is 16 bits, so a URI holds at most {ushort.MaxValue} bytes (RFC 8572 §8.3)";
                return false;
            }

            if (!IsBaseUrl(uri, out error))
                return false;
            var length = uri.Length; // printable ASCII (IsBaseUrl): one byte per character

            total += 2 + length;
        }

        if (total > MaxDhcpv6Length)
        {
            error = $"the list takes {total} bytes; a DHCP option holds at most {MaxDhcpv6Length} (RFC 8572 §8.2)";
            return false;
        }

        value = new byte[total];
        var offset = 0;
        foreach (var uri in uris)
        {
            var length = Encoding.ASCII.GetBytes(uri, value.AsSpan(offset + 2));
            BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(offset), (ushort)length);
            offset += 2 + length;
        }

        error = null;
        return true;
    }

    /// <summary>
    /// Decodes an option value as a device does (RFC 8572 §8.3): uint16 length-prefixed URIs until the value ends, each
    /// checked to be a bootstrap server's https base URL. A length running past the end, an empty list or a URI that
    /// is not such a base URL is an <see cref="SztpException"/> (Malformed).
    /// </summary>
    public static IReadOnlyList<Uri> Decode(ReadOnlySpan<byte> value)
    {
        if (value.Length > MaxDhcpv6Length)
            throw new SztpException(SztpError.TooLarge, $"the option value is {value.Length} bytes; at most {MaxDhcpv6Length}");
        var uris = new List<Uri>();
        while (!value.IsEmpty)
        {
            if (value.Length < 2)
                throw new SztpException(SztpError.Malformed, "the option value ends inside a uri-length");
            var length = BinaryPrimitives.ReadUInt16BigEndian(value);
            if (length > value.Length - 2)
                throw new SztpException(SztpError.Malformed, $"uri-length {length} runs past the end of the option value ({value.Length - 2} bytes left)");
            var text = Encoding.ASCII.GetString(value.Slice(2, length));
            if (!IsBaseUrl(text, out var error))
                throw new SztpException(SztpError.Malformed, error);
            uris.Add(new Uri(text, UriKind.Absolute));
            value = value[(2 + length)..];
        }

        return uris.Count > 0 ? uris : throw new SztpException(SztpError.Malformed, "the option value lists no bootstrap server");
    }

    private static bool IsBaseUrl(string uri, [NotNullWhen(false)] out string? error)
    {
        error = null;
        const string scheme = "https://";
        if (uri.Contains('@', StringComparison.Ordinal))
        {
            error = $"'{Redacted(uri)}' carries user information: a DHCP option is sent in clear, put no credentials in it";
            return false;
        }

        foreach (var c in uri)
        {
            // RFC 3986 URIs are printable ASCII; an internationalised host name must be given in its A-label form.
            if (c is < '!' or > '~')
            {
                error = $"'{Printable(uri)}' contains a character outside printable ASCII (give an IDN host as xn--…, no spaces)";
                return false;
            }
        }

        if (!uri.StartsWith(scheme, StringComparison.Ordinal))
        {
            error = $"'{uri}' is not an https URI: RFC 8572 §8.3 bootstrap servers are reached over https only (lower-case \"https://\")";
            return false;
        }

        var authority = uri[scheme.Length..];
        var extra = authority.IndexOfAny(['/', '?', '#']);
        if (extra >= 0)
        {
            error = $"'{uri}' has a path, query or fragment ('{authority[extra..]}'): give the base URL only, the device adds "
                + "/restconf/operations/… itself (RFC 8572 §8.3)";
            return false;
        }

        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Host.Length == 0)
        {
            error = $"'{uri}' is not a valid URI (host, and port 1-65535 if given)";
            return false;
        }

        var portSeparator = authority.LastIndexOf(':');
        var hasPort = portSeparator >= 0 && portSeparator > authority.LastIndexOf(']');
        if (hasPort && !IsPort(authority[(portSeparator + 1)..]))
        {
            error = $"'{uri}' has an invalid port '{authority[(portSeparator + 1)..]}' (1-65535)";
            return false;
        }

        return true;
    }

    private static bool IsPort(string text) =>
        text.Length is > 0 and <= 5 && text.All(char.IsAsciiDigit)
        && int.Parse(text, CultureInfo.InvariantCulture) is >= 1 and <= ushort.MaxValue;

    /// <summary>Keeps an error message on one readable line whatever the input held.</summary>
    private static string Printable(string text) =>
        string.Concat(text.Select(c => c is < ' ' or > '~' ? $"\\u{(int)c:x4}" : c.ToString()));

    /// <summary>Never echoes what may be a password typed into the URI.</summary>
    private static string Redacted(string uri) => "https://…@" + uri[(uri.LastIndexOf('@') + 1)..];
}
