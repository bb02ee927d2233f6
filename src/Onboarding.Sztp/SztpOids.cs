namespace Onboarding.Sztp;

/// <summary>The CMS content types SZTP uses (RFC 8572 §10.3, RFC 8366 §8.3, RFC 5652 §4–5).</summary>
public static class SztpOids
{
    /// <summary>id-data, RFC 5652 §4.</summary>
    public const string Data = "1.2.840.113549.1.7.1";
    /// <summary>id-signedData, RFC 5652 §5.1.</summary>
    public const string SignedData = "1.2.840.113549.1.7.2";
    /// <summary>id-ct-animaJSONVoucher, RFC 8366 §8.3.</summary>
    public const string AnimaJsonVoucher = "1.2.840.113549.1.9.16.1.40";
    /// <summary>id-ct-sztpConveyedInfoXML, RFC 8572 §10.3.</summary>
    public const string ConveyedInfoXml = "1.2.840.113549.1.9.16.1.42";
    /// <summary>id-ct-sztpConveyedInfoJSON, RFC 8572 §10.3.</summary>
    public const string ConveyedInfoJson = "1.2.840.113549.1.9.16.1.43";

    /// <summary>The conveyed-information content type for an encoding.</summary>
    public static string ConveyedInfo(SztpEncoding encoding) =>
        encoding == SztpEncoding.Json ? ConveyedInfoJson : ConveyedInfoXml;
}

/// <summary>The two encodings RFC 8572 defines for conveyed information and RPC bodies.</summary>
public enum SztpEncoding
{
    Json,
    Xml,
}
