using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Onboarding.Accounts.Contracts;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Redirect.Data;
using Onboarding.Redirect.Signing;
using Onboarding.Sztp;

namespace Onboarding.IntegrationTests;

/// <summary>
/// Signed mode at the redirect server (issue 12, item 3): a real NMS host's hand-off bundle imported into a real
/// redirect host, and the signed answer for one device checked with Debian's OpenSSL as a device would: the voucher
/// against the manufacturer's voucher trust anchor, the conveyed information against the NMS root.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SignedRedirectTests(OnboardingFactory nms, RedirectFactory redirect)
    : IClassFixture<OnboardingFactory>, IClassFixture<RedirectFactory>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("onboarding-signed-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Voucher_and_conveyed_information_verify_with_openssl_from_the_manufacturer_anchor_and_the_nms_root()
    {
        var (manufacturer, _, manufacturerId) = await redirect.SignUpManufacturerAsync("Signed Juniper");
        var bundle = await NmsBundleAsync("Signed Acme");
        var profileId = await ImportAsync(manufacturer, bundle);
        var anchor = await manufacturer.GetFromJsonAsync<JsonElement>("/api/redirect/manufacturers/me/voucher-trust-anchor");

        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var output = (await BuildAsync(manufacturerId, profileId, "FCW2129G02U", nonce: null))!;

        // owner-certificate is the bundle's certificates-only CMS, unchanged.
        var ownerCms = Convert.FromBase64String(bundle["ownerCertificate"]!.GetValue<string>());
        Assert.Equal(ownerCms, output.OwnerCertificate);
        var ownerCertificates = SztpCms.DecodeCertificatesOnly(ownerCms);
        var owner = SztpCms.EndEntity(ownerCertificates);
        var nmsRoot = ownerCertificates.Single(c => c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData));

        // The voucher verifies with OpenSSL trusting only the manufacturer's voucher root, as served by the API (PEM).
        var voucherFile = Write("voucher.der", output.OwnershipVoucher!);
        var anchorFile = Write("anchor.pem", Encoding.ASCII.GetBytes(anchor.GetProperty("pem").GetString()!));
        var voucherJson = Path.Combine(_dir, "voucher.json");
        var verified = await OpenSslAsync("cms", "-verify", "-binary", "-inform", "DER", "-in", voucherFile, "-CAfile", anchorFile,
            "-purpose", "any", "-out", voucherJson);
        Assert.True(verified.ExitCode == 0, verified.Stderr);
        var printed = await OpenSslAsync("cms", "-cmsout", "-print", "-inform", "DER", "-in", voucherFile);
        Assert.Contains("eContentType: undefined (1.2.840.113549.1.9.16.1.40)", printed.Stdout, StringComparison.Ordinal);
        Assert.Contains("rsaEncryption", printed.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("rsassaPss", printed.Stdout, StringComparison.Ordinal);

        // Its content is the RFC 8366 JSON voucher for this serial, pinning the owner certificate, expiring (no nonce sent).
        using (var document = JsonDocument.Parse(await File.ReadAllBytesAsync(voucherJson)))
        {
            var voucher = document.RootElement.GetProperty("ietf-voucher:voucher");
            Assert.Equal("FCW2129G02U", voucher.GetProperty("serial-number").GetString());
            Assert.Equal("verified", voucher.GetProperty("assertion").GetString());
            Assert.Equal(owner.RawData, voucher.GetProperty("pinned-domain-cert").GetBytesFromBase64());
            var created = DateTimeOffset.Parse(voucher.GetProperty("created-on").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(created, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
            var expires = DateTimeOffset.Parse(voucher.GetProperty("expires-on").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(TimeSpan.FromDays(14), expires - created); // Redirect:VoucherLifetime's default
            Assert.False(voucher.TryGetProperty("nonce", out _));
        }

        // The conveyed information is the NMS-signed redirect-information, verifying with the NMS root from the owner CMS.
        Assert.Equal(Convert.FromBase64String(bundle["signedRedirectInformation"]!.GetValue<string>()), output.ConveyedInformation);
        var conveyedFile = Write("conveyed.der", output.ConveyedInformation);
        var conveyedJson = Path.Combine(_dir, "conveyed.json");
        var conveyed = await OpenSslAsync("cms", "-verify", "-binary", "-inform", "DER", "-in", conveyedFile, "-CAfile", WritePem("nms-root.pem", nmsRoot),
            "-purpose", "any", "-out", conveyedJson);
        Assert.True(conveyed.ExitCode == 0, conveyed.Stderr);
        Assert.Contains("eContentType: undefined (1.2.840.113549.1.9.16.1.43)",
            (await OpenSslAsync("cms", "-cmsout", "-print", "-inform", "DER", "-in", conveyedFile)).Stdout, StringComparison.Ordinal);
        var redirectInformation = Assert.IsType<RedirectInformation>(ConveyedInformationCodec.Decode(await File.ReadAllBytesAsync(conveyedJson), SztpEncoding.Json));
        Assert.Equal("nms.test.example", Assert.Single(redirectInformation.BootstrapServers).Address);

        // The checks above can fail: another manufacturer's anchor does not verify this voucher.
        var (other, _, _) = await redirect.SignUpManufacturerAsync("Signed Other Vendor");
        var otherAnchor = await other.GetFromJsonAsync<JsonElement>("/api/redirect/manufacturers/me/voucher-trust-anchor");
        var refused = await OpenSslAsync("cms", "-verify", "-binary", "-inform", "DER", "-in", voucherFile,
            "-CAfile", Write("other-anchor.pem", Encoding.ASCII.GetBytes(otherAnchor.GetProperty("pem").GetString()!)), "-purpose", "any",
            "-out", Path.Combine(_dir, "x"));
        Assert.NotEqual(0, refused.ExitCode);

        // And our device-side verifier, knowing only the anchor's certificates-only CMS, agrees on the whole chain.
        var anchors = SztpCms.DecodeCertificatesOnly(Convert.FromBase64String(anchor.GetProperty("certificatesOnlyCms").GetString()!));
        var device = SignedBootstrapData.Verify(output, anchors, "FCW2129G02U", null, DateTimeOffset.UtcNow);
        Assert.Equal(await File.ReadAllBytesAsync(conveyedJson), device.ConveyedInformation);
        Assert.Equal(owner.RawData, device.OwnerCertificate.RawData);
    }

    [Fact]
    public async Task A_device_nonce_is_echoed_and_the_voucher_then_carries_no_expiry()
    {
        var (manufacturer, _, manufacturerId) = await redirect.SignUpManufacturerAsync("Signed Nonce Vendor");
        var profileId = await ImportAsync(manufacturer, await NmsBundleAsync("Signed Nonce Acme"));
        var nonce = RandomNumberGenerator.GetBytes(32);

        var output = (await BuildAsync(manufacturerId, profileId, "SN-NONCE-1", nonce))!;

        var anchors = await AnchorsAsync(manufacturer);
        var device = SignedBootstrapData.Verify(output, anchors, "SN-NONCE-1", nonce, DateTimeOffset.UtcNow);
        Assert.Equal(nonce, device.Voucher.Nonce);
        Assert.Null(device.Voucher.ExpiresOn);
        Assert.Equal(SztpError.VoucherMismatch, Assert.Throws<SztpException>(() =>
            SignedBootstrapData.Verify(output, anchors, "SN-NONCE-1", RandomNumberGenerator.GetBytes(32), DateTimeOffset.UtcNow)).Error);
        Assert.Equal(SztpError.VoucherMismatch, Assert.Throws<SztpException>(() =>
            SignedBootstrapData.Verify(output, anchors, "SN-OTHER", nonce, DateTimeOffset.UtcNow)).Error);
    }

    [Fact]
    public async Task A_profile_without_owner_certificate_and_signed_redirect_information_answers_unsigned()
    {
        var (manufacturer, _, manufacturerId) = await redirect.SignUpManufacturerAsync("Signed Unsigned Vendor");
        var profileId = await RedirectFactory.ImportProfileAsync(manufacturer);

        Assert.Null(await BuildAsync(manufacturerId, profileId, "SN-UNSIGNED", nonce: null));
    }

    [Fact]
    public async Task Trust_anchor_needs_a_manufacturer_key_and_each_manufacturer_gets_its_own_created_once_even_when_requests_race()
    {
        using var anonymous = redirect.CreateClient();
        await Problem.AssertAsync(await anonymous.GetAsync("/api/redirect/manufacturers/me/voucher-trust-anchor"), HttpStatusCode.Unauthorized);
        await Problem.AssertAsync(await anonymous.PostAsync("/api/redirect/manufacturers/me/voucher-signing-certificate/rotate", null),
            HttpStatusCode.Unauthorized);
        using var wrongKey = redirect.CreateClient();
        wrongKey.DefaultRequestHeaders.Add("X-Manufacturer-Key", "rdr_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        await Problem.AssertAsync(await wrongKey.GetAsync("/api/redirect/manufacturers/me/voucher-trust-anchor"), HttpStatusCode.Unauthorized);

        var (first, _, firstId) = await redirect.SignUpManufacturerAsync("Signed Anchor One");
        var (second, _, secondId) = await redirect.SignUpManufacturerAsync("Signed Anchor Two");
        // First use, four requests at once: one root is created, every request sees it.
        var raced = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => first.GetFromJsonAsync<JsonElement>("/api/redirect/manufacturers/me/voucher-trust-anchor")));
        var fingerprints = raced.Select(a => a.GetProperty("sha256Fingerprint").GetString()).Distinct().ToList();
        Assert.Single(fingerprints);
        var mine = raced[0];
        var theirs = await second.GetFromJsonAsync<JsonElement>("/api/redirect/manufacturers/me/voucher-trust-anchor");
        Assert.NotEqual(mine.GetProperty("sha256Fingerprint").GetString(), theirs.GetProperty("sha256Fingerprint").GetString());
        Assert.Contains(firstId.ToString("D"), mine.GetProperty("subject").GetString(), StringComparison.Ordinal);
        Assert.Contains(secondId.ToString("D"), theirs.GetProperty("subject").GetString(), StringComparison.Ordinal);

        // PEM and certificates-only CMS hold the same self-signed RSA-3072 CA, and no private key.
        var pem = mine.GetProperty("pem").GetString()!;
        Assert.DoesNotContain("PRIVATE KEY", pem, StringComparison.Ordinal);
        using var root = X509Certificate2.CreateFromPem(pem);
        var fromCms = Assert.Single(SztpCms.DecodeCertificatesOnly(Convert.FromBase64String(mine.GetProperty("certificatesOnlyCms").GetString()!)));
        Assert.Equal(root.RawData, fromCms.RawData);
        Assert.Equal(root.Subject, root.Issuer);
        Assert.True(root.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal(3072, root.GetRSAPublicKey()!.KeySize);
        Assert.Equal(mine.GetProperty("sha256Fingerprint").GetString(), root.GetCertHashString(HashAlgorithmName.SHA256));

        // Private keys live in the key store, one 0600 file per certificate, in the manufacturer's own directory.
        var directory = Path.Combine(redirect.KeyStoreDirectory, ManufacturerVoucherKeys.KeyStoreSubdirectory, firstId.ToString("D"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
        var files = Directory.GetFiles(directory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { ManufacturerVoucherKeys.RootFileName, ManufacturerVoucherKeys.SigningFileName }, files);
        foreach (var file in Directory.GetFiles(directory))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.Contains("PRIVATE KEY", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        }
        Assert.DoesNotContain(redirect.Logs.RenderedMessages, m => m.Contains("PRIVATE KEY", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_hosts_sharing_the_key_store_create_one_identity_and_see_each_others_rotation()
    {
        // Two instances are two hosts: separate in-process locks and caches, one key store directory.
        using var hostA = ActivatorUtilities.CreateInstance<ManufacturerVoucherKeys>(redirect.Services);
        using var hostB = ActivatorUtilities.CreateInstance<ManufacturerVoucherKeys>(redirect.Services);
        var manufacturerId = Guid.CreateVersion7();

        var created = await Task.WhenAll(hostA.GetAsync(manufacturerId, CancellationToken.None), hostB.GetAsync(manufacturerId, CancellationToken.None));
        Assert.Equal(created[0].Root.Thumbprint, created[1].Root.Thumbprint);
        Assert.Equal(created[0].Signing.Thumbprint, created[1].Signing.Thumbprint);
        var directory = Path.Combine(redirect.KeyStoreDirectory, ManufacturerVoucherKeys.KeyStoreSubdirectory, manufacturerId.ToString("D"));
        Assert.Equal(2, Directory.GetFiles(directory).Length); // no temporary file left behind by the loser

        var rotated = await hostA.RotateSigningAsync(manufacturerId, CancellationToken.None);
        var seen = await hostB.GetAsync(manufacturerId, CancellationToken.None);
        Assert.Equal(rotated.Signing.Thumbprint, seen.Signing.Thumbprint);
        Assert.NotEqual(created[0].Signing.Thumbprint, seen.Signing.Thumbprint);
        Assert.Equal(created[0].Root.Thumbprint, seen.Root.Thumbprint);
        Assert.True(seen.Signing.HasPrivateKey);
    }

    [Fact]
    public async Task Rotation_keeps_the_root_and_signs_later_vouchers_with_the_new_certificate()
    {
        var (manufacturer, _, manufacturerId) = await redirect.SignUpManufacturerAsync("Signed Rotation Vendor");
        var profileId = await ImportAsync(manufacturer, await NmsBundleAsync("Signed Rotation Acme"));
        var anchorBefore = await manufacturer.GetFromJsonAsync<JsonElement>("/api/redirect/manufacturers/me/voucher-trust-anchor");
        var beforeOutput = (await BuildAsync(manufacturerId, profileId, "SN-ROTATE", nonce: null))!;
        var signerBefore = VoucherSigner(beforeOutput);

        var rotated = await manufacturer.PostAsync("/api/redirect/manufacturers/me/voucher-signing-certificate/rotate", null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var signing = await rotated.Content.ReadFromJsonAsync<JsonElement>();
        Assert.DoesNotContain("PRIVATE KEY", signing.GetProperty("pem").GetString()!, StringComparison.Ordinal);
        var anchorAfter = await manufacturer.GetFromJsonAsync<JsonElement>("/api/redirect/manufacturers/me/voucher-trust-anchor");
        Assert.Equal(anchorBefore.GetProperty("sha256Fingerprint").GetString(), anchorAfter.GetProperty("sha256Fingerprint").GetString());
        Assert.Equal(anchorAfter.GetProperty("subject").GetString(), signing.GetProperty("issuer").GetString());

        var afterOutput = (await BuildAsync(manufacturerId, profileId, "SN-ROTATE", nonce: null))!;
        var signerAfter = VoucherSigner(afterOutput);
        Assert.NotEqual(signerBefore.Thumbprint, signerAfter.Thumbprint);
        Assert.Equal(signing.GetProperty("sha256Fingerprint").GetString(), signerAfter.GetCertHashString(HashAlgorithmName.SHA256));

        // Devices trust the root only: vouchers from before and after the rotation both verify, with OpenSSL too.
        var anchors = await AnchorsAsync(manufacturer);
        SignedBootstrapData.Verify(beforeOutput, anchors, "SN-ROTATE", null, DateTimeOffset.UtcNow);
        SignedBootstrapData.Verify(afterOutput, anchors, "SN-ROTATE", null, DateTimeOffset.UtcNow);
        var result = await OpenSslAsync("cms", "-verify", "-binary", "-inform", "DER", "-in", Write("rotated.der", afterOutput.OwnershipVoucher!),
            "-CAfile", Write("rotation-anchor.pem", Encoding.ASCII.GetBytes(anchorAfter.GetProperty("pem").GetString()!)), "-purpose", "any",
            "-out", Path.Combine(_dir, "rotated.json"));
        Assert.True(result.ExitCode == 0, result.Stderr);
    }

    [Fact]
    public async Task A_profile_of_another_manufacturer_is_refused()
    {
        var (manufacturer, _, _) = await redirect.SignUpManufacturerAsync("Signed Tenant Vendor");
        var (_, _, otherId) = await redirect.SignUpManufacturerAsync("Signed Tenant Intruder");
        var profileId = await ImportAsync(manufacturer, await NmsBundleAsync("Signed Tenant Acme"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => BuildAsync(otherId, profileId, "SN-TENANT", nonce: null));
        Assert.False(Directory.Exists(Path.Combine(redirect.KeyStoreDirectory, ManufacturerVoucherKeys.KeyStoreSubdirectory, otherId.ToString("D"))),
            "no voucher key is created for a refused request");
    }

    [Fact]
    public async Task A_profile_made_inconsistent_after_import_never_reaches_a_device()
    {
        var (manufacturer, _, manufacturerId) = await redirect.SignUpManufacturerAsync("Signed Tampered Vendor");
        var profileId = await ImportAsync(manufacturer, await NmsBundleAsync("Signed Tampered Acme"));
        // The database now holds redirect-information signed by a key that is not the owner's.
        using var stranger = SelfSigned("CN=Not The Owner");
        var forged = SztpCms.SignConveyedInformation(SztpEncoding.Json, ConveyedInformationCodec.Encode(
            new RedirectInformation([new BootstrapServer("attacker.example")]), SztpEncoding.Json), stranger, RSASignaturePadding.Pkcs1);
        await using (var dataSource = NpgsqlDataSource.Create(redirect.ConnectionString))
        await using (var command = dataSource.CreateCommand("UPDATE redirect.nms_profiles SET signed_redirect_information = $1 WHERE id = $2"))
        {
            command.Parameters.AddWithValue(Convert.ToBase64String(forged));
            command.Parameters.AddWithValue(profileId);
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => BuildAsync(manufacturerId, profileId, "SN-TAMPERED", nonce: null));
        Assert.Contains("signedRedirectInformation", error.Message, StringComparison.Ordinal);
        Assert.Contains(redirect.Logs.Events, e => e.Level == Serilog.Events.LogEventLevel.Error
            && e.Properties.TryGetValue("ProfileId", out var id) && id.ToString() == profileId.ToString()
            && e.Properties.ContainsKey("Serial") && e.Properties.ContainsKey("ManufacturerId"));
    }

    [Fact]
    public async Task Import_refuses_redirect_information_not_signed_by_the_owner_certificate()
    {
        var (manufacturer, _, _) = await redirect.SignUpManufacturerAsync("Signed Import Vendor");
        var bundle = await NmsBundleAsync("Signed Import Acme");
        using var stranger = SelfSigned("CN=Not The Owner");
        var redirectJson = ConveyedInformationCodec.Encode(new RedirectInformation([new BootstrapServer("nms.test.example", 8443)]), SztpEncoding.Json);

        // Signed by someone else, though the owner certificate is the NMS's.
        var forged = Clone(bundle);
        forged["signedRedirectInformation"] = Convert.ToBase64String(SztpCms.SignConveyedInformation(SztpEncoding.Json, redirectJson, stranger));
        var problem = await Problem.AssertValidationAsync(await manufacturer.PostAsJsonAsync("/api/redirect/nms-profiles", forged), "signedRedirectInformation");
        Assert.False(problem.GetProperty("errors").TryGetProperty("ownerCertificate", out _));

        // Consistent the other way round: the stranger's owner certificate with the NMS's signed document.
        var swapped = Clone(bundle);
        swapped["ownerCertificate"] = Convert.ToBase64String(SztpCms.EncodeCertificatesOnly([X509CertificateLoader.LoadCertificate(stranger.RawData)]));
        await Problem.AssertValidationAsync(await manufacturer.PostAsJsonAsync("/api/redirect/nms-profiles", swapped), "signedRedirectInformation");

        // Signed by the real owner key, but onboarding-information is not what a redirect server may convey.
        var ownerKey = nms.Services.GetRequiredService<INmsBootstrapIdentity>().OwnerCertificate;
        var onboarding = Clone(bundle);
        onboarding["signedRedirectInformation"] = Convert.ToBase64String(SztpCms.SignConveyedInformation(SztpEncoding.Json,
            ConveyedInformationCodec.Encode(new OnboardingInformation(Configuration: "<config/>"u8.ToArray(), ConfigurationHandling: ConfigurationHandling.Merge),
                SztpEncoding.Json), ownerKey));
        await Problem.AssertValidationAsync(await manufacturer.PostAsJsonAsync("/api/redirect/nms-profiles", onboarding), "signedRedirectInformation");

        // The real owner key signing a voucher-typed document: wrong eContentType.
        var voucherTyped = Clone(bundle);
        voucherTyped["signedRedirectInformation"] = Convert.ToBase64String(SztpCms.Sign(SztpOids.AnimaJsonVoucher, redirectJson, ownerKey));
        await Problem.AssertValidationAsync(await manufacturer.PostAsJsonAsync("/api/redirect/nms-profiles", voucherTyped), "signedRedirectInformation");

        // Nothing was stored by any refused import.
        Assert.Empty(await manufacturer.GetFromJsonAsync<List<JsonElement>>("/api/redirect/nms-profiles") ?? []);
        // The untouched bundle imports, so the refusals above are about the signed members alone.
        Assert.NotEqual(Guid.Empty, await ImportAsync(manufacturer, bundle));
    }

    [Fact]
    public async Task Import_refuses_garbage_and_a_signed_member_without_the_other()
    {
        var (manufacturer, _, _) = await redirect.SignUpManufacturerAsync("Signed Garbage Vendor");
        var bundle = await NmsBundleAsync("Signed Garbage Acme");

        var garbageOwner = Clone(bundle);
        garbageOwner["ownerCertificate"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(200));
        var problem = await Problem.AssertValidationAsync(await manufacturer.PostAsJsonAsync("/api/redirect/nms-profiles", garbageOwner), "ownerCertificate");
        Assert.Contains("certificates-only CMS", problem.GetProperty("errors").GetProperty("ownerCertificate")[0].GetString(), StringComparison.Ordinal);

        var garbageSigned = Clone(bundle);
        garbageSigned["signedRedirectInformation"] = Convert.ToBase64String("not a CMS at all"u8.ToArray());
        await Problem.AssertValidationAsync(await manufacturer.PostAsJsonAsync("/api/redirect/nms-profiles", garbageSigned), "signedRedirectInformation");

        // The signed document handed in where the owner certificate belongs: it has a signer, so it is not certs-only.
        var swapped = Clone(bundle);
        swapped["ownerCertificate"] = bundle["signedRedirectInformation"]!.GetValue<string>();
        await Problem.AssertValidationAsync(await manufacturer.PostAsJsonAsync("/api/redirect/nms-profiles", swapped), "ownerCertificate");

        var alone = Clone(bundle);
        alone.Remove("signedRedirectInformation");
        await Problem.AssertValidationAsync(await manufacturer.PostAsJsonAsync("/api/redirect/nms-profiles", alone), "signedRedirectInformation");
        var other = Clone(bundle);
        other.Remove("ownerCertificate");
        await Problem.AssertValidationAsync(await manufacturer.PostAsJsonAsync("/api/redirect/nms-profiles", other), "ownerCertificate");

        Assert.Empty(await manufacturer.GetFromJsonAsync<List<JsonElement>>("/api/redirect/nms-profiles") ?? []);
    }

    /// <summary>A real NMS's hand-off bundle, with the passphrase (from rotating it, the one response that carries it).</summary>
    private async Task<JsonObject> NmsBundleAsync(string customerName)
    {
        var setup = await ManufacturerSetup.CreateAsync(nms, customerName, registerCa: false);
        var response = await setup.Customer.PostAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/sftp-passphrase", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var bundle = JsonNode.Parse(body)!.AsObject();
        Assert.NotNull(bundle["ownerCertificate"]);
        Assert.NotNull(bundle["signedRedirectInformation"]);
        return bundle;
    }

    private static async Task<Guid> ImportAsync(HttpClient manufacturer, JsonObject bundle)
    {
        var response = await manufacturer.PostAsJsonAsync("/api/redirect/nms-profiles", bundle);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        using var document = JsonDocument.Parse(body);
        Assert.True(document.RootElement.GetProperty("hasOwnerCertificate").GetBoolean());
        return document.RootElement.GetProperty("id").GetGuid();
    }

    private async Task<GetBootstrappingDataOutput?> BuildAsync(Guid manufacturerId, Guid profileId, string serial, byte[]? nonce)
    {
        using var scope = redirect.Services.CreateScope();
        var profile = await scope.ServiceProvider.GetRequiredService<RedirectDbContext>().NmsProfiles.AsNoTracking().SingleAsync(p => p.Id == profileId);
        return await scope.ServiceProvider.GetRequiredService<ISignedRedirect>().BuildAsync(manufacturerId, serial, profile, nonce, CancellationToken.None);
    }

    private static async Task<X509Certificate2Collection> AnchorsAsync(HttpClient manufacturer)
    {
        var anchor = await manufacturer.GetFromJsonAsync<JsonElement>("/api/redirect/manufacturers/me/voucher-trust-anchor");
        return SztpCms.DecodeCertificatesOnly(Convert.FromBase64String(anchor.GetProperty("certificatesOnlyCms").GetString()!));
    }

    private static X509Certificate2 VoucherSigner(GetBootstrappingDataOutput output)
    {
        var signed = new System.Security.Cryptography.Pkcs.SignedCms();
        signed.Decode(output.OwnershipVoucher!);
        return Assert.Single(signed.SignerInfos.Cast<System.Security.Cryptography.Pkcs.SignerInfo>()).Certificate!;
    }

    private static JsonObject Clone(JsonObject bundle) => JsonNode.Parse(bundle.ToJsonString())!.AsObject();

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static Task<ExternalTool.Result> OpenSslAsync(params string[] arguments) => ExternalTool.RunAsync("openssl", arguments);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string WritePem(string name, X509Certificate2 certificate) => Write(name, Encoding.ASCII.GetBytes(certificate.ExportCertificatePem()));
}
