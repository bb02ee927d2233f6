using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Onboarding.ServiceDefaults.Security;

namespace Onboarding.IntegrationTests;

/// <summary>
/// <see cref="CertificateChains"/>, the chain check of certificates from outside: a certificate that names where its
/// missing issuer can be fetched (AIA caIssuers) must not make us fetch it. The "issuer server" here is a real TCP
/// listener that counts the connections the chain engine opens to it.
/// </summary>
public sealed class CertificateChainsTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly TcpListener _issuerServer = new(IPAddress.Loopback, 0);
    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _root;
    private readonly X509Certificate2 _intermediate;
    private readonly X509Certificate2 _leaf;

    public CertificateChainsTests()
    {
        _issuerServer.Start();
        var issuerUrl = $"http://127.0.0.1:{((IPEndPoint)_issuerServer.LocalEndpoint).Port}/intermediate.cer";
        _root = Ca("CN=Chains Root", _rootKey, issuer: null, issuerKey: null);
        _intermediate = Ca("CN=Chains Intermediate", _intermediateKey, _root, _rootKey);
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=device CH-AIA, SERIALNUMBER=CH-AIA", leafKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension(null, [issuerUrl]));
        using var leaf = request.Create(_intermediate.CopyWithPrivateKey(_intermediateKey), Now.AddDays(-1), Now.AddYears(1), [1, 2, 3]);
        _leaf = X509CertificateLoader.LoadCertificate(leaf.RawData);
    }

    [Fact]
    public void A_missing_intermediate_named_by_the_certificate_is_not_fetched_and_the_chain_fails()
    {
        var reason = CertificateChains.Verify(_leaf, [], [_root], Now);

        Assert.NotNull(reason);
        Assert.False(_issuerServer.Pending(), "the chain engine connected to the address the certificate named");
    }

    [Fact]
    public void The_intermediates_handed_over_complete_the_chain_to_the_anchor_and_nothing_else_is_trusted()
    {
        Assert.Null(CertificateChains.Verify(_leaf, [_intermediate], [_root], Now));
        // The system store is no anchor, and neither is the intermediate's own root without being given.
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var strangerRoot = Ca("CN=Stranger Root", stranger, issuer: null, issuerKey: null);
        Assert.NotNull(CertificateChains.Verify(_leaf, [_intermediate], [strangerRoot], Now));
        // Valid chains only at times every certificate in them is valid.
        Assert.NotNull(CertificateChains.Verify(_leaf, [_intermediate], [_root], Now.AddYears(2)));
        Assert.False(_issuerServer.Pending());
    }

    private static X509Certificate2 Ca(string subject, ECDsa key, X509Certificate2? issuer, ECDsa? issuerKey)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var created = issuer is null
            ? request.CreateSelfSigned(Now.AddDays(-2), Now.AddYears(5))
            : request.Create(issuer.CopyWithPrivateKey(issuerKey!), Now.AddDays(-2), Now.AddYears(4), [9, 8, 7]);
        return X509CertificateLoader.LoadCertificate(created.RawData);
    }

    public void Dispose()
    {
        _issuerServer.Stop();
        _leaf.Dispose();
        _intermediate.Dispose();
        _root.Dispose();
        _intermediateKey.Dispose();
        _rootKey.Dispose();
    }
}
