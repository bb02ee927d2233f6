using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;

namespace Onboarding.Telemetry.Delivery;

/// <summary>
/// The private module <c>urn:onboarding:telemetry:1.0</c> a device announces (as a NETCONF capability) when it can take
/// a telemetry credential over call home: the RPC <c>generate-csr</c>, answered with <c>csr</c> (a PKCS#10 request,
/// base64 DER, signed with a key the device generated and keeps), and the container <c>telemetry</c> in the running
/// configuration, where the NMS writes what the device needs to publish. Certificates are base64 DER, as
/// ietf-crypto-types' cert-data (RFC 9640): no PEM line breaks for a datastore to reflow. Pure functions over XML.
/// </summary>
internal static class TelemetryYang
{
    public const string Capability = "urn:onboarding:telemetry:1.0";

    public static readonly XNamespace Ns = Capability;

    /// <summary>A request larger than this is refused before it is decoded (an RSA-4096 request is about 1.2 KiB).</summary>
    public const int MaxCsrBytes = 16 * 1024;

    public static XElement GenerateCsr(string serialNumber) =>
        new(Ns + "generate-csr", new XElement(Ns + "common-name", serialNumber));

    /// <summary>The subtree filter (RFC 6241 §6.4.1) that selects the telemetry container.</summary>
    public static XElement Filter() => new(Ns + "telemetry");

    /// <summary>What the NMS writes into the device's configuration: public material only.</summary>
    public static XElement Configuration(string serialNumber, long deviceName, string deviceFunction, string brokerHost, int brokerPort,
        X509Certificate2 certificate, X509Certificate2 caCertificate) =>
        new(Ns + "telemetry",
            new XElement(Ns + "device-id", serialNumber),
            new XElement(Ns + "device-name", deviceName),
            new XElement(Ns + "device-function", deviceFunction),
            new XElement(Ns + "broker", new XElement(Ns + "host", brokerHost), new XElement(Ns + "port", brokerPort)),
            new XElement(Ns + "telemetry-topic", $"devices/{serialNumber}/telemetry"),
            new XElement(Ns + "certificate", Convert.ToBase64String(certificate.RawData)),
            new XElement(Ns + "ca-certificate", Convert.ToBase64String(caCertificate.RawData)));

    /// <summary>
    /// The device's PKCS#10 request from the rpc-reply, its self-signature checked (RFC 2986 §3: proof of possession).
    /// Only the public key is used; the subject and extensions the device asked for are ignored.
    /// </summary>
    /// <exception cref="FormatException">No csr, not base64, too large, not a request, a bad signature or a key we do not sign.</exception>
    public static PublicKey ReadCsr(XElement rpcReply)
    {
        var text = rpcReply.Element(Ns + "csr")?.Value ?? throw new FormatException($"the reply to generate-csr holds no <csr xmlns=\"{Capability}\">");
        if (text.Length > MaxCsrBytes * 2)
            throw new FormatException($"the csr is larger than {MaxCsrBytes} bytes");
        byte[] der;
        try
        {
            der = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            throw new FormatException("the csr is not base64");
        }

        CertificateRequest request;
        try
        {
            // Validates the request's signature with its own key: the device holds the private key.
            request = CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default, RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException e)
        {
            throw new FormatException("the csr is not a valid PKCS#10 request: " + e.Message);
        }

        var key = request.PublicKey;
        using (var ecdsa = key.GetECDsaPublicKey())
        {
            if (ecdsa is not null)
            {
                return ecdsa.KeySize is 256 or 384
                    ? key
                    : throw new FormatException($"an ECDSA key of {ecdsa.KeySize} bits is not signed here (P-256 or P-384)");
            }
        }

        using var rsa = key.GetRSAPublicKey();
        return rsa is { KeySize: >= 2048 }
            ? key
            : throw new FormatException(rsa is null ? "the csr's key is neither ECDSA nor RSA" : $"an RSA key of {rsa.KeySize} bits is too weak (at least 2048)");
    }

    /// <summary>The certificate the device's running configuration holds, or null when it holds none (or an unreadable one).</summary>
    public static X509Certificate2? HeldCertificate(XElement data)
    {
        var text = data.Element(Ns + "telemetry")?.Element(Ns + "certificate")?.Value;
        if (string.IsNullOrWhiteSpace(text))
            return null;
        try
        {
            return X509CertificateLoader.LoadCertificate(Convert.FromBase64String(text.Trim()));
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return null;
        }
    }
}
