using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Accounts;
using Onboarding.Accounts.Api;
using Onboarding.Accounts.Contracts;
using Onboarding.HostKeys.Contracts;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Sztp;

namespace Onboarding.IntegrationTests;

/// <summary>GET /api/manufacturers/{id}/handoff and POST …/sftp-passphrase on the real host (docs/handoff-bundle.md).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class HandoffTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    private readonly string _dir = Directory.CreateTempSubdirectory("onboarding-handoff-").FullName;

    [Fact]
    public async Task Bundle_carries_every_member_of_version_1_and_no_passphrase()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Handoff Fields Telecom", registerCa: false);
        var json = await GetBundleJsonAsync(setup);

        Assert.Equal(1, json.GetProperty("version").GetInt32());
        Assert.True(json.GetProperty("issuedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        var nms = json.GetProperty("nms");
        Assert.Equal(setup.Profile.Id, nms.GetProperty("customerId").GetGuid());
        Assert.Equal("Handoff Fields Telecom", nms.GetProperty("customerName").GetString());
        Assert.Equal(setup.Credentials.ManufacturerId, nms.GetProperty("manufacturerId").GetGuid());

        var sftp = json.GetProperty("sftp");
        Assert.Equal("nms.test.example", sftp.GetProperty("host").GetString());
        Assert.Equal(2222, sftp.GetProperty("port").GetInt32());
        Assert.Equal(setup.Credentials.Username, sftp.GetProperty("username").GetString());
        var credential = sftp.GetProperty("credential");
        Assert.Equal("passphrase", credential.GetProperty("mode").GetString());
        Assert.False(credential.TryGetProperty("passphrase", out _), "a plain GET must never carry the passphrase");
        Assert.DoesNotContain(setup.Credentials.Passphrase, json.GetRawText(), StringComparison.Ordinal);
        Assert.Contains($"PUT /api/manufacturers/{setup.Credentials.ManufacturerId}/sftp-public-key",
            credential.GetProperty("registerPublicKey").GetString(), StringComparison.Ordinal);

        using var anonymous = factory.CreateClient();
        var hostKeys = (await anonymous.GetFromJsonAsync<List<HostKeyFingerprint>>("/api/nms/host-keys"))!;
        var bundled = sftp.GetProperty("hostKeys").EnumerateArray().Select(k => new HostKeyFingerprint(
            k.GetProperty("algorithm").GetString()!, k.GetProperty("fingerprint").GetString()!, k.GetProperty("publicKey").GetString()!)).ToList();
        Assert.Equal(hostKeys, bundled);
        Assert.All(bundled, k => Assert.StartsWith("SHA256:", k.Fingerprint, StringComparison.Ordinal));

        Assert.Equal("https://nms.test.example:8443", json.GetProperty("bootstrapServer").GetProperty("url").GetString());
        Assert.Equal("nms.test.example", json.GetProperty("callHome").GetProperty("host").GetString());
        Assert.Equal(4334, json.GetProperty("callHome").GetProperty("port").GetInt32());

        // The owner certificate CMS is certs-only and holds the owner certificate and its issuer.
        var owner = SztpCms.DecodeCertificatesOnly(Convert.FromBase64String(json.GetProperty("ownerCertificate").GetString()!));
        Assert.Equal(2, owner.Count);
        Assert.Contains(owner, c => c.Subject.Contains("CN=Onboarding NMS Owner", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Signed_redirect_information_verifies_with_openssl_and_sztp_against_the_bundled_owner_certificate()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Handoff Signed Telecom", registerCa: false);
        var json = await GetBundleJsonAsync(setup);
        var signed = Convert.FromBase64String(json.GetProperty("signedRedirectInformation").GetString()!);
        var trustAnchor = Convert.FromBase64String(json.GetProperty("bootstrapServer").GetProperty("trustAnchor").GetString()!);
        var certificates = SztpCms.DecodeCertificatesOnly(Convert.FromBase64String(json.GetProperty("ownerCertificate").GetString()!));
        var owner = certificates.Single(c => c.Subject.Contains("CN=Onboarding NMS Owner", StringComparison.Ordinal));

        // OpenSSL, with the owner certificate from the bundle as the only trusted certificate (what a device pins).
        var cms = Write("ri.der", signed);
        var content = Path.Combine(_dir, "ri.json");
        var verified = await OpenSslAsync("cms", "-verify", "-binary", "-inform", "DER", "-in", cms,
            "-CAfile", WritePem("owner.pem", owner), "-partial_chain", "-purpose", "any", "-out", content);
        Assert.True(verified.ExitCode == 0, verified.Stderr);
        var printed = await OpenSslAsync("cms", "-cmsout", "-print", "-inform", "DER", "-in", cms);
        Assert.Contains("eContentType: undefined (1.2.840.113549.1.9.16.1.43)", printed.Stdout, StringComparison.Ordinal);
        // RFC 8572 devices often can do only PKCS#1 v1.5: the signer's algorithm is rsaEncryption, not RSASSA-PSS.
        Assert.Contains("rsaEncryption", printed.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("rsassaPss", printed.Stdout, StringComparison.Ordinal);

        // The same document against a certificate that did not sign it fails, so the check above can fail.
        using var stranger = SelfSigned("CN=Not The Owner");
        var refused = await OpenSslAsync("cms", "-verify", "-binary", "-inform", "DER", "-in", cms,
            "-CAfile", WritePem("stranger.pem", stranger), "-partial_chain", "-purpose", "any", "-out", Path.Combine(_dir, "x"));
        Assert.NotEqual(0, refused.ExitCode);

        // Our RFC 8572 verifier agrees, and the content is RFC 8572 JSON redirect-information naming the NMS bootstrap server.
        var ours = SztpCms.VerifySigned(signed, [SztpOids.ConveyedInfoJson], [owner], DateTimeOffset.UtcNow);
        Assert.Equal(await File.ReadAllBytesAsync(content), ours.Content);
        Assert.Equal(owner.Thumbprint, ours.Signer.Thumbprint);
        using var document = JsonDocument.Parse(ours.Content);
        var server = document.RootElement.GetProperty("ietf-sztp-conveyed-info:redirect-information").GetProperty("bootstrap-server").EnumerateArray().Single();
        Assert.Equal("nms.test.example", server.GetProperty("address").GetString());
        Assert.Equal(8443, server.GetProperty("port").GetInt32());
        Assert.Equal(trustAnchor, server.GetProperty("trust-anchor").GetBytesFromBase64());
        var decoded = Assert.IsType<RedirectInformation>(ConveyedInformationCodec.Decode(ours.Content, SztpEncoding.Json));
        Assert.Equal("nms.test.example", Assert.Single(decoded.BootstrapServers).Address);
        Assert.Throws<SztpException>(() => SztpCms.VerifySigned(signed, [SztpOids.ConveyedInfoJson], [stranger], DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task Trust_anchor_is_the_issuer_of_the_bootstrap_servers_TLS_certificate()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Handoff Anchor Telecom", registerCa: false);
        var json = await GetBundleJsonAsync(setup);
        var anchor = Assert.Single(SztpCms.DecodeCertificatesOnly(Convert.FromBase64String(
            json.GetProperty("bootstrapServer").GetProperty("trustAnchor").GetString()!)));
        var tls = factory.Services.GetRequiredService<INmsBootstrapIdentity>().BootstrapTlsCertificate;

        Assert.Equal(anchor.Subject, tls.Issuer);
        Assert.True(tls.MatchesHostname("nms.test.example"));
        Assert.False(tls.MatchesHostname("other.test.example"));
        using var tlsPublic = X509CertificateLoader.LoadCertificate(tls.RawData);
        var verified = await OpenSslAsync("verify", "-CAfile", WritePem("anchor.pem", anchor), "-purpose", "sslserver",
            "-verify_hostname", "nms.test.example", WritePem("tls.pem", tlsPublic));
        Assert.True(verified.ExitCode == 0, verified.Stdout + verified.Stderr);
        Assert.NotEqual(0, (await OpenSslAsync("verify", "-CAfile", WritePem("anchor2.pem", anchor), "-verify_hostname", "other.test.example",
            WritePem("tls2.pem", tlsPublic))).ExitCode);

        // The private key files are 0600 in the key store's nms-identity directory.
        foreach (var file in Directory.GetFiles(IdentityDirectory))
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(3, Directory.GetFiles(IdentityDirectory, "*.pem").Length);
    }

    [Fact]
    public async Task Swagger_documents_the_hand_off_with_its_versioned_response_type()
    {
        using var client = factory.CreateClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var paths = document.RootElement.GetProperty("paths");
        var get = paths.GetProperty("/api/manufacturers/{id}/handoff").GetProperty("get");
        Assert.Equal("GetManufacturerHandoff", get.GetProperty("operationId").GetString());
        Assert.Contains("HandoffBundleV1", get.GetProperty("responses").GetProperty("200").GetRawText(), StringComparison.Ordinal);
        Assert.Contains("404", get.GetProperty("responses").EnumerateObject().Select(r => r.Name));
        var post = paths.GetProperty("/api/manufacturers/{id}/sftp-passphrase").GetProperty("post");
        Assert.Equal("RotateManufacturerSftpPassphrase", post.GetProperty("operationId").GetString());
    }

    [Fact]
    public async Task Another_customers_manufacturer_is_not_found()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Handoff Owner Telecom", registerCa: false);
        var (intruder, _) = await factory.SignUpAsync("Handoff Intruder Telecom");

        await Problem.AssertAsync(await intruder.GetAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/handoff"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await intruder.PostAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/sftp-passphrase", null), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await setup.Customer.GetAsync($"/api/manufacturers/{Guid.NewGuid()}/handoff"), HttpStatusCode.NotFound);
        using var anonymous = factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/handoff")).StatusCode);

        // The intruder's rotation attempt changed nothing: the owner's passphrase still logs in.
        Assert.Equal(0, (await OpenSshSftpAsync(setup, setup.Credentials.Passphrase)).ExitCode);
    }

    [Fact]
    public async Task Rotation_returns_the_new_passphrase_once_and_the_old_one_no_longer_logs_in_over_OpenSSH_sftp()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Handoff Rotation Telecom", registerCa: false);
        var response = await setup.Customer.PostAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/sftp-passphrase", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rotated = (await response.Content.ReadFromJsonAsync<HandoffBundleV1>())!;
        Assert.Equal(1, rotated.Version);
        Assert.Equal("passphrase", rotated.Sftp.Credential.Mode);
        var passphrase = rotated.Sftp.Credential.Passphrase;
        Assert.False(string.IsNullOrEmpty(passphrase));
        Assert.NotEqual(setup.Credentials.Passphrase, passphrase);
        Assert.Null(rotated.Sftp.Credential.RegisterPublicKey);

        var old = await OpenSshSftpAsync(setup, setup.Credentials.Passphrase);
        Assert.NotEqual(0, old.ExitCode);
        Assert.Contains("Permission denied", old.Stderr, StringComparison.Ordinal);
        var fresh = await OpenSshSftpAsync(setup, passphrase!);
        Assert.True(fresh.ExitCode == 0, fresh.Stderr);
        Assert.Contains("incoming", fresh.Stdout, StringComparison.Ordinal);

        // The next plain GET does not repeat it, and the passphrase was never logged.
        var again = await GetBundleJsonAsync(setup);
        Assert.DoesNotContain(passphrase!, again.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(factory.Logs.RenderedMessages, m => m.Contains(passphrase!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Registered_public_key_makes_the_mode_public_key()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Handoff Key Telecom", registerCa: false);
        var keyFile = Path.Combine(_dir, "id_ed25519");
        var generated = await ExternalTool.RunAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
        Assert.True(generated.ExitCode == 0, generated.Stderr);
        var put = await setup.Customer.PutAsJsonAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/sftp-public-key",
            new { publicKey = (await File.ReadAllTextAsync(keyFile + ".pub")).Trim() });
        put.EnsureSuccessStatusCode();

        var credential = (await GetBundleJsonAsync(setup)).GetProperty("sftp").GetProperty("credential");
        Assert.Equal("public-key", credential.GetProperty("mode").GetString());
        Assert.False(credential.TryGetProperty("passphrase", out _));
    }

    [Fact]
    public async Task Identities_persist_across_a_restart_and_a_new_public_host_gets_a_new_TLS_certificate_under_the_same_anchor()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Handoff Restart Telecom", registerCa: false);
        var before = await GetBundleJsonAsync(setup);
        var tlsBefore = factory.Services.GetRequiredService<INmsBootstrapIdentity>().BootstrapTlsCertificate.Thumbprint;

        await using (var restarted = new OnboardingFactory())
        {
            restarted.With("NmsIdentity:Directory", IdentityDirectory);
            await restarted.InitializeAsync();
            var identity = restarted.Services.GetRequiredService<INmsBootstrapIdentity>();
            Assert.Equal(before.GetProperty("ownerCertificate").GetString(), Convert.ToBase64String(identity.OwnerCertificateCms));
            Assert.Equal(before.GetProperty("bootstrapServer").GetProperty("trustAnchor").GetString(), Convert.ToBase64String(identity.TrustAnchorCms));
            Assert.Equal(tlsBefore, identity.BootstrapTlsCertificate.Thumbprint);
        }

        await using var moved = new OnboardingFactory();
        moved.With("NmsIdentity:Directory", IdentityDirectory).With("Nms:PublicHost", "nms2.test.example").With("Nms:BootstrapPort", "9443");
        await moved.InitializeAsync();
        var movedIdentity = moved.Services.GetRequiredService<INmsBootstrapIdentity>();
        Assert.Equal(before.GetProperty("ownerCertificate").GetString(), Convert.ToBase64String(movedIdentity.OwnerCertificateCms));
        Assert.Equal(before.GetProperty("bootstrapServer").GetProperty("trustAnchor").GetString(), Convert.ToBase64String(movedIdentity.TrustAnchorCms));
        Assert.NotEqual(tlsBefore, movedIdentity.BootstrapTlsCertificate.Thumbprint);
        Assert.True(movedIdentity.BootstrapTlsCertificate.MatchesHostname("nms2.test.example"));
        Assert.Equal("https://nms2.test.example:9443/", movedIdentity.BootstrapUrl.ToString());
    }

    private string IdentityDirectory => Path.Combine(factory.KeyStoreDirectory, NmsIdentityOptions.KeyStoreSubdirectory);

    private static async Task<JsonElement> GetBundleJsonAsync(ManufacturerSetup setup)
    {
        var response = await setup.Customer.GetAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/handoff");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Logs in with Debian's OpenSSH sftp (password via sshpass), pinning the NMS host keys, and lists /.</summary>
    private async Task<ExternalTool.Result> OpenSshSftpAsync(ManufacturerSetup setup, string passphrase)
    {
        var port = factory.SftpPort;
        var batch = Write("batch", Encoding.ASCII.GetBytes("ls /\n"));
        return await ExternalTool.RunAsync("sshpass", ["-e", "sftp", "-F", "/dev/null", "-o", "UserKnownHostsFile=" + setup.WriteKnownHosts(port),
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password",
            "-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=1", "-P", port.ToString(CultureInfo.InvariantCulture), "-b", batch,
            $"{setup.Credentials.Username}@127.0.0.1"],
            environment: new Dictionary<string, string> { ["SSHPASS"] = passphrase });
    }

    private static Task<ExternalTool.Result> OpenSslAsync(params string[] arguments) => ExternalTool.RunAsync("openssl", arguments);

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string WritePem(string name, X509Certificate2 certificate) => Write(name, Encoding.ASCII.GetBytes(certificate.ExportCertificatePem() + "\n"));
}
