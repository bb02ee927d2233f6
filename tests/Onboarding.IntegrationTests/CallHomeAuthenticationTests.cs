using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.CallHome.Trust;
using Onboarding.Inventory.Contracts;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The host-key decision for RFC 6187 x509v3 host keys, against the real inventory and trust rules. OpenSSH has no
/// x509v3 host keys and our SSH library keeps its x509v3 server key internal, so these tests hand the decision the
/// context the SSH client would (key, algorithm, certificate chain) instead of running a handshake.
/// </summary>
public class CallHomeAuthenticationTests(CallHomeFactory factory) : CallHomeRig(factory), IClassFixture<CallHomeFactory>
{
    private const string X509Ecdsa = "x509v3-ecdsa-sha2-nistp256";

    [Fact]
    public async Task An_x509v3_host_key_with_the_bookkept_idevid_identifies_the_device_and_its_chain_is_checked()
    {
        var setup = await ManufacturerAsync("X509 Call Home Telecom");
        using var certificate = setup.Ca.IssueDevice("X5-1");
        var bookkept = await BookkeepAsync(setup, "X5-1", certificate);

        var accepted = await DecideAsync(certificate, setup.Ca.Certificate);

        Assert.Null(accepted.Refusal);
        Assert.Equal(bookkept.Id, accepted.Device!.Id);
        Assert.Equal($"x509v3 host key, certificate {certificate.Subject}", accepted.IdentifiedBy);

        // The same key in a certificate that is not the bookkept one (here self-signed) is not the device's IDevID.
        using var key = certificate.GetECDsaPrivateKey()!;
        var request = new CertificateRequest(certificate.SubjectName, key, HashAlgorithmName.SHA256);
        using var forged = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var mismatch = await DecideAsync(forged);
        Assert.Equal("certificate-mismatch", mismatch.Refusal!.Code);
        Assert.Equal(bookkept.Id, mismatch.Device!.Id);

        // The owner replaced the manufacturer's CA: the bookkept certificate, presented as it is, no longer chains.
        using (var otherCa = new FactoryCa("Replacement Factory CA"))
        {
            var put = await setup.Customer.PutAsJsonAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/ca", new { certificatesPem = otherCa.Pem });
            put.EnsureSuccessStatusCode();
        }

        var unchained = await DecideAsync(certificate, setup.Ca.Certificate);
        Assert.Equal("untrusted-chain", unchained.Refusal!.Code);
        Assert.Equal(DeviceState.Bookkept, (await TimelineAsync(setup, bookkept.Id)).State);
    }

    private async Task<CallHomeDecision> DecideAsync(X509Certificate2 leaf, params X509Certificate2[] rest)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        var context = new SshHostKeyContext
        {
            HostKey = SshPublicKey.FromCertificate(leaf),
            HostKeyAlgorithm = X509Ecdsa,
            CertificateChain = [X509CertificateLoader.LoadCertificate(leaf.RawData), .. rest.Select(c => X509CertificateLoader.LoadCertificate(c.RawData))],
            ServerVersion = "SSH-2.0-Device",
        };
        return await scope.ServiceProvider.GetRequiredService<CallHomeAuthentication>().AuthenticateAsync(context, null, CancellationToken.None);
    }
}
