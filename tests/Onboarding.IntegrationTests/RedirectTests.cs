using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Redirect.Profiles;
using Onboarding.Ssh.Keys;

namespace Onboarding.IntegrationTests;

/// <summary>The redirect server (Roles=Redirect, real Kestrel and PostgreSQL): manufacturers, device types, NMS profiles.</summary>
public class RedirectTests(RedirectFactory factory) : IClassFixture<RedirectFactory>
{
    [Fact]
    public async Task Manufacturer_signs_up_and_its_key_is_shown_once_and_stored_only_as_sha256()
    {
        var (client, key, id) = await factory.SignUpManufacturerAsync("Cisco");
        Assert.StartsWith("rdr_", key, StringComparison.Ordinal);

        var me = await client.GetFromJsonAsync<JsonElement>("/api/redirect/manufacturers/me");
        Assert.Equal("Cisco", me.GetProperty("name").GetString());
        Assert.False(me.TryGetProperty("apiKey", out _));

        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT api_key_hash, api_key_id FROM redirect.manufacturers WHERE id = $1");
        command.Parameters.AddWithValue(id);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(key)), reader.GetFieldValue<byte[]>(0));
        Assert.DoesNotContain(key, reader.GetString(1), StringComparison.Ordinal);
        Assert.DoesNotContain(factory.Logs.RenderedMessages, m => m.Contains(key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rotating_the_key_stops_the_old_one_at_once()
    {
        var (client, oldKey, _) = await factory.SignUpManufacturerAsync();
        var rotated = await client.PostAsync("/api/redirect/manufacturers/me/api-key", null);
        var newKey = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;

        using var old = factory.CreateClient();
        old.DefaultRequestHeaders.Add("X-Manufacturer-Key", oldKey);
        await Problem.AssertAsync(await old.GetAsync("/api/redirect/manufacturers/me"), HttpStatusCode.Unauthorized);
        using var fresh = factory.CreateClient();
        fresh.DefaultRequestHeaders.Add("X-Manufacturer-Key", newKey);
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync("/api/redirect/manufacturers/me")).StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("rdr_not-a-key")]
    [InlineData("rdr_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Requests_without_a_valid_manufacturer_key_are_401_problems(string? key)
    {
        using var client = factory.CreateClient();
        if (key is not null)
            client.DefaultRequestHeaders.Add("X-Manufacturer-Key", key);
        foreach (var path in new[] { "/api/redirect/manufacturers/me", "/api/redirect/device-types", "/api/redirect/nms-profiles", "/api/redirect/orders" })
            await Problem.AssertAsync(await client.GetAsync(path), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Sign_up_with_bad_fields_is_a_validation_problem()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsJsonAsync("/api/redirect/manufacturers", new { name = " ", contactEmail = "not an address" });
        await Problem.AssertValidationAsync(response, "name", "contactEmail");
    }

    [Fact]
    public async Task Device_type_with_a_ca_and_the_cisco_rule_is_registered_and_listed()
    {
        var (client, _, _) = await factory.SignUpManufacturerAsync("Cisco");
        using var ca = new FactoryCa("Cisco Manufacturing CA");
        var response = await client.PostAsJsonAsync("/api/redirect/device-types",
            new { name = "C9300", caPem = ca.Pem, serial = new { source = "SubjectCommonName", pattern = @"SN:(?<serial>\S+)" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("SubjectCommonName", created.GetProperty("serialSource").GetString());
        Assert.Equal(ca.Certificate.GetCertHashString(HashAlgorithmName.SHA256),
            created.GetProperty("caCertificates")[0].GetProperty("sha256Fingerprint").GetString());

        var listed = await client.GetFromJsonAsync<JsonElement>("/api/redirect/device-types");
        Assert.Equal(created.GetProperty("id").GetGuid(), Assert.Single(listed.EnumerateArray()).GetProperty("id").GetGuid());
        var duplicate = await client.PostAsJsonAsync("/api/redirect/device-types", new { name = "C9300", caPem = ca.Pem, serial = new { source = "SubjectSerialNumber" } });
        await Problem.AssertAsync(duplicate, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Device_type_with_a_non_ca_or_expired_certificate_or_a_bad_rule_is_refused_with_each_reason()
    {
        var (client, _, _) = await factory.SignUpManufacturerAsync();
        using var ca = new FactoryCa();
        using var leaf = ca.IssueDevice("SN1");
        using var expiredKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var expiredRequest = new CertificateRequest("CN=Old CA", expiredKey, HashAlgorithmName.SHA256);
        expiredRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var expired = expiredRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddYears(-3), DateTimeOffset.UtcNow.AddDays(-1));

        async Task<JsonElement> Refused(object body, string field)
        {
            var json = await Problem.AssertValidationAsync(await client.PostAsJsonAsync("/api/redirect/device-types", body), field);
            return json.GetProperty("errors").GetProperty(field);
        }

        Assert.Contains("not a CA certificate", (await Refused(new { name = "t", caPem = leaf.ExportCertificatePem(), serial = new { source = "SubjectSerialNumber" } }, "caPem"))[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("expired", (await Refused(new { name = "t", caPem = expired.ExportCertificatePem(), serial = new { source = "SubjectSerialNumber" } }, "caPem"))[0].GetString(), StringComparison.Ordinal);
        await Refused(new { name = "t", caPem = "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----", serial = new { source = "SubjectSerialNumber" } }, "caPem");
        Assert.Contains("named group 'serial'", (await Refused(new { name = "t", caPem = ca.Pem, serial = new { source = "SubjectCommonName", pattern = @"SN:(\S+)" } }, "serial.pattern"))[0].GetString(), StringComparison.Ordinal);
        await Refused(new { name = "t", caPem = ca.Pem, serial = new { source = "SubjectCommonName", pattern = "SN:(?<serial>" } }, "serial.pattern");
        Assert.Contains("Unknown source 'LastRdn'", (await Refused(new { name = "t", caPem = ca.Pem, serial = new { source = "LastRdn" } }, "serial.source"))[0].GetString(), StringComparison.Ordinal);
        await Refused(new { name = "t", caPem = ca.Pem, serial = new { source = "1" } }, "serial.source");
        await Refused(new { name = "t", caPem = ca.Pem }, "serial.source");
        Assert.Empty(await client.GetFromJsonAsync<JsonElement[]>("/api/redirect/device-types") ?? []);
    }

    [Fact]
    public async Task Passphrase_profile_is_encrypted_at_rest_with_keys_in_the_key_store_and_never_returned()
    {
        var (client, _, _) = await factory.SignUpManufacturerAsync();
        const string passphrase = "s3cret-NMS-passphrase-for-juniper";
        var bundle = RedirectFactory.Bundle("passphrase", passphrase);
        var response = await client.PostAsJsonAsync("/api/redirect/nms-profiles", bundle);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.DoesNotContain(passphrase, body, StringComparison.Ordinal);
        var created = JsonDocument.Parse(body).RootElement;
        var id = created.GetProperty("id").GetGuid();
        Assert.True(created.GetProperty("sftp").GetProperty("hasPassphrase").GetBoolean());
        Assert.Equal("passphrase", created.GetProperty("sftp").GetProperty("credentialMode").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("sftp").GetProperty("clientPublicKey").ValueKind);
        Assert.StartsWith("SHA256:", created.GetProperty("sftp").GetProperty("hostKeys")[0].GetProperty("fingerprint").GetString(), StringComparison.Ordinal);

        Assert.DoesNotContain(passphrase, await client.GetStringAsync($"/api/redirect/nms-profiles/{id}"), StringComparison.Ordinal);
        Assert.DoesNotContain(passphrase, await client.GetStringAsync("/api/redirect/nms-profiles"), StringComparison.Ordinal);
        Assert.DoesNotContain(factory.Logs.RenderedMessages, m => m.Contains(passphrase, StringComparison.Ordinal));

        // At rest: a Data Protection ciphertext that the host's key ring (in the key store) turns back into the passphrase.
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT protected_passphrase FROM redirect.nms_profiles WHERE id = $1");
        command.Parameters.AddWithValue(id);
        var stored = (string)(await command.ExecuteScalarAsync())!;
        Assert.DoesNotContain(passphrase, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(passphrase)), stored, StringComparison.Ordinal);
        Assert.Equal(passphrase, factory.Services.GetRequiredService<ProfileSecrets>().UnprotectPassphrase(stored));
        var keyRing = Path.Combine(factory.KeyStoreDirectory, "redirect-data-protection");
        Assert.NotEmpty(Directory.GetFiles(keyRing, "key-*.xml"));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(keyRing));

        // A protector for another purpose (or another application) cannot read it.
        var other = factory.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Onboarding.Redirect.NmsProfile.SshClientKey.v1");
        Assert.ThrowsAny<CryptographicException>(() => other.Unprotect(stored));
    }

    [Fact]
    public async Task Public_key_profile_gets_its_own_ed25519_client_key_that_ssh_keygen_reads()
    {
        var (client, _, _) = await factory.SignUpManufacturerAsync();
        var first = await client.PostAsJsonAsync("/api/redirect/nms-profiles", RedirectFactory.Bundle("public-key", passphrase: null));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var created = await first.Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetGuid();
        var publicKey = created.GetProperty("sftp").GetProperty("clientPublicKey").GetString()!;
        Assert.StartsWith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", publicKey, StringComparison.Ordinal);
        Assert.False(created.GetProperty("sftp").GetProperty("hasPassphrase").GetBoolean());

        // OpenSSH's own tool accepts it as an authorized_keys line.
        var file = Path.Combine(Directory.CreateTempSubdirectory("redirect-pub-").FullName, "client.pub");
        await File.WriteAllTextAsync(file, publicKey + "\n");
        var keygen = await ExternalTool.RunAsync("ssh-keygen", ["-l", "-f", file]);
        Assert.Equal(0, keygen.ExitCode);
        Assert.Contains("(ED25519)", keygen.Stdout, StringComparison.Ordinal);

        // The private half is stored encrypted, and decrypts to the key whose public half was shown.
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT protected_client_key FROM redirect.nms_profiles WHERE id = $1");
        command.Parameters.AddWithValue(id);
        var stored = (string)(await command.ExecuteScalarAsync())!;
        Assert.DoesNotContain("OPENSSH PRIVATE KEY", stored, StringComparison.Ordinal);
        using var key = SshHostKey.ParseOpenSshPrivateKey(factory.Services.GetRequiredService<ProfileSecrets>().UnprotectClientKey(stored));
        Assert.Equal(publicKey.Split(' ')[1], key.PublicKey.ToAuthorizedKeysLine().Split(' ')[1]);

        // One key per profile.
        var second = await (await client.PostAsJsonAsync("/api/redirect/nms-profiles", RedirectFactory.Bundle("public-key", passphrase: null)))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.NotEqual(publicKey, second.GetProperty("sftp").GetProperty("clientPublicKey").GetString());
    }

    [Fact]
    public async Task Bundle_with_missing_or_bad_required_members_is_a_400_naming_each()
    {
        var (client, _, _) = await factory.SignUpManufacturerAsync();
        var response = await client.PostAsJsonAsync("/api/redirect/nms-profiles", new
        {
            version = 2,
            nms = new { customerName = "Acme" },
            sftp = new { host = "nms.acme.example", port = 70000, credential = new { mode = "password" }, hostKeys = new[] { new { fingerprint = "MD5:aa:bb" } } },
            bootstrapServer = new { url = "http://nms.acme.example" },
            ownerCertificate = "not base64!",
        });
        var problem = await Problem.AssertValidationAsync(response, "version", "nms.customerId", "sftp.port", "sftp.username", "sftp.credential.mode",
            "sftp.hostKeys[0].fingerprint", "bootstrapServer.url", "ownerCertificate");
        Assert.Contains("not supported", problem.GetProperty("errors").GetProperty("version")[0].GetString(), StringComparison.Ordinal);

        var noPassphrase = await client.PostAsJsonAsync("/api/redirect/nms-profiles", RedirectFactory.Bundle("passphrase", passphrase: null));
        await Problem.AssertValidationAsync(noPassphrase, "sftp.credential.passphrase");
        var noHostKeys = RedirectFactory.Bundle();
        noHostKeys["sftp"] = new { host = "nms.acme.example", port = 2222, username = "m", credential = new { mode = "passphrase", passphrase = "p" } };
        await Problem.AssertValidationAsync(await client.PostAsJsonAsync("/api/redirect/nms-profiles", noHostKeys), "sftp.hostKeys");
        Assert.Empty(await client.GetFromJsonAsync<JsonElement[]>("/api/redirect/nms-profiles") ?? []);
    }

    [Fact]
    public async Task Profiles_are_listed_and_deleted_and_a_profile_with_live_orders_is_kept()
    {
        var (client, _, _) = await factory.SignUpManufacturerAsync();
        var kept = await RedirectFactory.ImportProfileAsync(client);
        var deleted = await RedirectFactory.ImportProfileAsync(client, "public-key");
        Assert.Equal(2, (await client.GetFromJsonAsync<JsonElement[]>("/api/redirect/nms-profiles"))!.Length);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/redirect/orders", new { serialNumber = "LIVE1", nmsProfileId = kept })).StatusCode);

        await Problem.AssertAsync(await client.DeleteAsync($"/api/redirect/nms-profiles/{kept}"), HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/redirect/nms-profiles/{deleted}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/redirect/nms-profiles/{deleted}")).StatusCode);
        Assert.Equal(kept, Assert.Single((await client.GetFromJsonAsync<JsonElement[]>("/api/redirect/nms-profiles"))!).GetProperty("id").GetGuid());
    }
}
