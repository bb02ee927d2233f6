using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.ServiceDefaults.Keys;

namespace Onboarding.Redirect.Signing;

/// <summary>
/// A manufacturer's voucher signing identity: the voucher root CA (the trust anchor burnt into its devices at the
/// factory) and the signing certificate that root issued. Both carry their private keys; only the signing key signs
/// vouchers, the root key only issues signing certificates.
/// </summary>
internal sealed record VoucherSigningIdentity(X509Certificate2 Root, X509Certificate2 Signing);

/// <summary>
/// The voucher signing identities of every manufacturer of this redirect server, kept in the key store
/// (<c>redirect-vouchers/&lt;manufacturer id&gt;/</c>, one PEM file per certificate with its PKCS#8 key, 0600) and
/// created on first use. RSA-3072 with PKCS#1 v1.5 SHA-256 signatures, because strict devices' crypto chips verify
/// PKCS#1 v1.5 but not PSS (DESIGN.md, "Conveyed information"). Files are written whole to a temporary name and
/// renamed into place, so requests racing on one host, and hosts sharing the store, never see half a file, and of
/// two racing creators exactly one wins.
/// </summary>
internal sealed class ManufacturerVoucherKeys(IOptions<RedirectOptions> options, KeyStore keyStore, TimeProvider clock,
    ILogger<ManufacturerVoucherKeys> logger) : IDisposable
{
    public const string KeyStoreSubdirectory = "redirect-vouchers";
    public const string RootFileName = "voucher-root-ca.pem";
    public const string SigningFileName = "voucher-signing.pem";
    private const int RsaBits = 3072;

    // The root is what devices trust for their whole life; the signing certificate is rotated (or renewed before it
    // expires), and a voucher never outlives the certificate that signed it.
    private static readonly TimeSpan RootLifetime = TimeSpan.FromDays(365 * 30);
    private static readonly TimeSpan SigningLifetime = TimeSpan.FromDays(365 * 3);
    private static readonly TimeSpan RenewSigningBefore = TimeSpan.FromDays(60);

    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _locks = new();
    private readonly ConcurrentDictionary<Guid, Cached> _cache = new();

    /// <summary>The manufacturer's identity, created on first use; reloaded when another host rotated the signing certificate.</summary>
    public async Task<VoucherSigningIdentity> GetAsync(Guid manufacturerId, CancellationToken cancellationToken)
    {
        var directory = Directory(manufacturerId);
        var signingPath = Path.Combine(directory, SigningFileName);
        if (_cache.TryGetValue(manufacturerId, out var cached) && cached.Matches(signingPath) && Fresh(cached.Identity.Signing))
            return cached.Identity;

        var gate = _locks.GetOrAdd(manufacturerId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (_cache.TryGetValue(manufacturerId, out cached) && cached.Matches(signingPath) && Fresh(cached.Identity.Signing))
                return cached.Identity;
            var root = KeyStoreCertificates.LoadOrCreate(Path.Combine(directory, RootFileName), () => CreateRoot(manufacturerId), logger);
            var signing = KeyStoreCertificates.LoadOrCreate(signingPath, () => IssueSigning(root, manufacturerId), logger);
            if (!Fresh(signing) || !signing.IssuerName.RawData.AsSpan().SequenceEqual(root.SubjectName.RawData))
            {
                signing.Dispose();
                signing = IssueSigning(root, manufacturerId);
                KeyStoreCertificates.Replace(signingPath, signing);
                logger.LogInformation("Renewed the voucher signing certificate of manufacturer {ManufacturerId} (not after {NotAfter})",
                    manufacturerId, signing.NotAfter);
            }
            return Remember(manufacturerId, signingPath, new VoucherSigningIdentity(root, signing));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Issues a new signing certificate under the same root; vouchers signed before stay valid until they expire.</summary>
    public async Task<VoucherSigningIdentity> RotateSigningAsync(Guid manufacturerId, CancellationToken cancellationToken)
    {
        var current = await GetAsync(manufacturerId, cancellationToken);
        var gate = _locks.GetOrAdd(manufacturerId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var signingPath = Path.Combine(Directory(manufacturerId), SigningFileName);
            var signing = IssueSigning(current.Root, manufacturerId);
            KeyStoreCertificates.Replace(signingPath, signing);
            logger.LogInformation("Rotated the voucher signing certificate of manufacturer {ManufacturerId}: SHA-256 {Thumbprint}",
                manufacturerId, signing.GetCertHashString(HashAlgorithmName.SHA256));
            return Remember(manufacturerId, signingPath, new VoucherSigningIdentity(current.Root, signing));
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose()
    {
        foreach (var gate in _locks.Values)
            gate.Dispose();
    }

    private string Directory(Guid manufacturerId) => KeyStore.EnsurePrivateDirectory(Path.Combine(
        keyStore.PrivateDirectory(options.Value.VoucherKeyDirectory, KeyStoreSubdirectory), manufacturerId.ToString("D")));

    // Old identities are not disposed: a request may still be signing with one. They are few (one per rotation).
    private VoucherSigningIdentity Remember(Guid manufacturerId, string signingPath, VoucherSigningIdentity identity)
    {
        _cache[manufacturerId] = new Cached(identity, StampOf(signingPath));
        return identity;
    }

    private bool Fresh(X509Certificate2 signing) => signing.NotAfter.ToUniversalTime() > (clock.GetUtcNow() + RenewSigningBefore).UtcDateTime;

    private static FileStamp StampOf(string path)
    {
        var info = new FileInfo(path);
        return new FileStamp(info.LastWriteTimeUtc, info.Length);
    }

    private X509Certificate2 CreateRoot(Guid manufacturerId)
    {
        using var key = RSA.Create(RsaBits);
        var request = new CertificateRequest($"CN=Voucher Root CA {manufacturerId:D}, O=Onboarding Redirect", key, HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1);
        // pathLen 0: the root issues signing certificates only, never another CA.
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = clock.GetUtcNow();
        return request.CreateSelfSigned(now.AddDays(-1), now + RootLifetime);
    }

    /// <summary>RFC 8366 §5.4: the voucher is a CMS signature, so the signing certificate needs digitalSignature only.</summary>
    private X509Certificate2 IssueSigning(X509Certificate2 root, Guid manufacturerId)
    {
        using var key = RSA.Create(RsaBits);
        var request = new CertificateRequest($"CN=Voucher Signing {manufacturerId:D}, O=Onboarding Redirect", key, HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // RFC 5280 §4.1.2.2: positive
        serial[0] |= 0x01; // and without a leading zero byte
        var now = clock.GetUtcNow();
        var notAfter = now + SigningLifetime < root.NotAfter.ToUniversalTime() ? now + SigningLifetime : new DateTimeOffset(root.NotAfter.ToUniversalTime());
        using var certificate = request.Create(root, now.AddMinutes(-5), notAfter, serial);
        return certificate.CopyWithPrivateKey(key);
    }

    private sealed record Cached(VoucherSigningIdentity Identity, FileStamp Stamp)
    {
        // Another host sharing the store may have rotated the signing certificate: its rename changes the file's stamp.
        public bool Matches(string path) => File.Exists(path) && StampOf(path) == Stamp;
    }

    private readonly record struct FileStamp(DateTime LastWriteUtc, long Length);
}
