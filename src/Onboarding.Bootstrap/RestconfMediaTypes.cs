using Microsoft.Net.Http.Headers;
using Onboarding.Sztp;

namespace Onboarding.Bootstrap;

/// <summary>RFC 8040 §5.2 media types: which encoding a request is in and which one its answer may be in.</summary>
internal static class RestconfMediaTypes
{
    public const string YangDataJson = "application/yang-data+json";
    public const string YangDataXml = "application/yang-data+xml";

    public static string Of(SztpEncoding encoding) => encoding == SztpEncoding.Json ? YangDataJson : YangDataXml;

    /// <summary>The request body's encoding; null for a media type that is neither (415). No Content-Type: JSON.</summary>
    public static SztpEncoding? RequestEncoding(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
            return SztpEncoding.Json;
        return MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? Encoding(parsed.MediaType.Value) : null;
    }

    /// <summary>
    /// The answer's encoding: the first type in Accept (by quality) that we speak, with <c>*/*</c> or no Accept meaning
    /// the request's own encoding; null when Accept names only types we do not produce (406).
    /// </summary>
    public static SztpEncoding? ResponseEncoding(IList<string>? accept, SztpEncoding requestEncoding)
    {
        if (accept is null || accept.Count == 0 || !MediaTypeHeaderValue.TryParseList(accept, out var ranges) || ranges.Count == 0)
            return requestEncoding;
        foreach (var range in ranges.OrderByDescending(r => r.Quality ?? 1))
        {
            if (range.Quality == 0)
                continue;
            var type = range.MediaType.Value;
            if (type is "*/*" or "application/*")
                return requestEncoding;
            if (Encoding(type) is { } encoding)
                return encoding;
        }

        return null;
    }

    private static SztpEncoding? Encoding(string? mediaType) => mediaType?.ToLowerInvariant() switch
    {
        YangDataJson or "application/json" => SztpEncoding.Json,
        YangDataXml or "application/xml" or "text/xml" => SztpEncoding.Xml,
        _ => null,
    };
}
