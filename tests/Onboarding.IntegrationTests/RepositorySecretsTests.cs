using System.Security.Cryptography;
using System.Text;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

/// <summary>No private key and no secret-looking file is tracked by git (the device CA key once was).</summary>
public class RepositorySecretsTests
{
    [Fact]
    public void No_tracked_file_holds_a_private_key_or_is_a_secret_file()
    {
        var root = CommittedSecrets.RepositoryRoot();
        var tracked = CommittedSecrets.TrackedFiles(root);
        Assert.Contains("src/Onboarding.Host/Program.cs", tracked); // the listing is real, not empty

        var findings = new List<string>();
        foreach (var path in tracked)
        {
            var full = Path.Combine(root, path);
            // A file deleted in the working tree but still in the index is still committed: judge it by name alone.
            var content = File.Exists(full) ? File.ReadAllBytes(full) : [];
            findings.AddRange(CommittedSecrets.Findings(path, content).Select(reason => $"{path}: {reason}"));
        }

        Assert.True(findings.Count == 0, "Tracked by git but must not be (git rm it; keys go to the key store):\n" + string.Join('\n', findings));
    }

    [Fact]
    public void Generated_private_keys_are_found_in_every_encoding()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pkcs8 = rsa.ExportPkcs8PrivateKeyPem();
        var escaped = ec.ExportECPrivateKeyPem().Replace("\n", "\\n", StringComparison.Ordinal); // as in a C# or JSON string
        var crlf = rsa.ExportRSAPrivateKeyPem().Replace("\n", "\r\n", StringComparison.Ordinal);
        var encrypted = ec.ExportEncryptedPkcs8PrivateKeyPem("pw", new PbeParameters(PbeEncryptionAlgorithm.Aes128Cbc, HashAlgorithmName.SHA256, 1));
        using var ed25519 = Onboarding.Ssh.Keys.SshHostKey.GenerateEd25519();
        var openSsh = ed25519.ToOpenSshPrivateKey("test");

        foreach (var text in new[] { pkcs8, escaped, crlf, encrypted, openSsh, $"const string key = \"{escaped}\";" })
            Assert.Single(CommittedSecrets.Findings("src/Some/File.cs", Encoding.ASCII.GetBytes(text)));
        // Assembled at run time, so this file does not itself hold what the repository scan looks for.
        var legacyEncrypted = "-----BEGIN RSA " + "PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF\n\n"
            + Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)) + "\n";
        Assert.Single(CommittedSecrets.Findings("legacy-rsa-header.pem", Encoding.ASCII.GetBytes(legacyEncrypted)));
        Assert.Single(CommittedSecrets.Findings("deploy.ppk", Encoding.ASCII.GetBytes("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n")));
    }

    [Theory]
    [InlineData("src/Onboarding.Host/telemetry-ca/device-ca.key")]
    [InlineData("src/Onboarding.Host/telemetry-ca/ingester.secret")]
    [InlineData("deploy/id_ed25519")]
    [InlineData("id_rsa")]
    [InlineData(".env")]
    [InlineData("docker/.env.production")]
    [InlineData("certs/broker.p12")]
    public void Secret_looking_files_are_found_by_name(string path) =>
        Assert.NotEmpty(CommittedSecrets.Findings(path, "harmless"u8.ToArray()));

    [Theory]
    [InlineData("src/Onboarding.Ssh/Keys/OpenSshKeyFile.cs", "private const string Begin = \"-----BEGIN OPENSSH PRIVATE KEY-----\";")]
    [InlineData("deploy/id_ed25519.pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample nms")]
    [InlineData("certs/device-ca.crt", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUexample\n-----END CERTIFICATE-----\n")]
    [InlineData("docs/keys.md", "The key file starts with -----BEGIN PRIVATE KEY----- and is 0600.")]
    [InlineData(".envrc.example.md", "see .env")]
    public void Public_material_and_code_that_names_a_key_header_are_not_findings(string path, string content) =>
        Assert.Empty(CommittedSecrets.Findings(path, Encoding.ASCII.GetBytes(content)));

    [Fact]
    public void The_allow_list_holds_only_the_published_rfc_8410_test_vector()
    {
        const string rfc8410 = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        Assert.Empty(CommittedSecrets.Findings("tests/Vectors.cs", Encoding.ASCII.GetBytes(rfc8410)));
        Assert.Single(CommittedSecrets.AllowedKeyBodies);
    }
}
