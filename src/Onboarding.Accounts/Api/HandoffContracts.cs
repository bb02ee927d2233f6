using System.Text.Json.Serialization;
using Onboarding.HostKeys.Contracts;

namespace Onboarding.Accounts.Api;

/// <summary>
/// The hand-off bundle, version 1 (docs/handoff-bundle.md): everything a manufacturer's redirect server needs to
/// hand this customer's devices to this NMS, and nothing it must not have. Binary members are base64.
/// </summary>
/// <param name="Version">Always 1; a redirect server refuses versions it does not know.</param>
/// <param name="OwnerCertificate">Certificates-only CMS: the NMS owner certificate and its issuer (RFC 8572 §3.2).</param>
/// <param name="SignedRedirectInformation">CMS SignedData (eContentType id-ct-sztpConveyedInfoJSON) of redirect-information
/// naming the NMS bootstrap server, signed by the owner key; the same for every device.</param>
public sealed record HandoffBundleV1(
    int Version,
    DateTimeOffset IssuedAt,
    HandoffNms Nms,
    HandoffSftp Sftp,
    HandoffBootstrapServer BootstrapServer,
    CallHomeConnection CallHome,
    string OwnerCertificate,
    string SignedRedirectInformation);

/// <summary>Whose NMS this is and which manufacturer registration the bundle belongs to.</summary>
public sealed record HandoffNms(Guid CustomerId, string CustomerName, Guid ManufacturerId);

/// <summary>Where the redirect server uploads device records. Pin one of the host keys.</summary>
public sealed record HandoffSftp(string Host, int Port, string Username, HandoffCredential Credential, IReadOnlyList<HostKeyFingerprint> HostKeys);

/// <param name="Mode"><c>passphrase</c>, or <c>public-key</c> once the customer registered the manufacturer's SSH public key.</param>
/// <param name="Passphrase">Only in the response that created or rotated it; the NMS keeps only a salted slow hash.</param>
/// <param name="RegisterPublicKey">How to switch to (or replace) key authentication; present whenever the passphrase is not.</param>
public sealed record HandoffCredential(
    string Mode,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Passphrase,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RegisterPublicKey);

/// <param name="Url">The NMS bootstrap server (RFC 8572 get-bootstrapping-data), e.g. <c>https://nms.example:8443</c>.</param>
/// <param name="TrustAnchor">Certificates-only CMS with the CA that issued the bootstrap server's TLS certificate.</param>
public sealed record HandoffBootstrapServer(string Url, string TrustAnchor);
