using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Onboarding.Ssh.Keys;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Tests;

public class KeysTests
{
    // RFC 8032 §7.1 TEST 1 and TEST 2.
    [Theory]
    [InlineData("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")]
    [InlineData("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")]
    public void Ed25519_matches_rfc8032_vectors(string seed, string pub, string msg, string sig)
    {
        using var key = Ed25519HostKey.FromSeed(Convert.FromHexString(seed));
        var blob = key.PublicKey.Blob;
        Assert.Equal(pub, Convert.ToHexStringLower(blob.AsSpan(blob.Length - 32)));
        var signature = key.Sign("ssh-ed25519", Convert.FromHexString(msg));
        var r = new SshReader(signature);
        Assert.Equal("ssh-ed25519", r.ReadAscii());
        Assert.Equal(sig, Convert.ToHexStringLower(r.ReadString()));
        Assert.True(key.PublicKey.Verify(signature, Convert.FromHexString(msg)));
    }

    public static TheoryData<string> KeyKinds => new() { "ed25519", "rsa", "ecdsa256", "ecdsa384", "ecdsa521" };

    internal static SshHostKey Generate(string kind) => kind switch
    {
        "ed25519" => SshHostKey.GenerateEd25519(),
        "rsa" => SshHostKey.GenerateRsa(2048),
        "ecdsa256" => SshHostKey.GenerateEcdsa(256),
        "ecdsa384" => SshHostKey.GenerateEcdsa(384),
        _ => SshHostKey.GenerateEcdsa(521),
    };

    [Theory]
    [MemberData(nameof(KeyKinds))]
    public void Private_key_round_trips_and_signs(string kind)
    {
        using var key = Generate(kind);
        var text = key.ToOpenSshPrivateKey("me@test");
        using var back = SshHostKey.ParseOpenSshPrivateKey(text);
        Assert.Equal(key.KeyType, back.KeyType);
        Assert.Equal(key.PublicKey.Blob, back.PublicKey.Blob);
        Assert.Equal(key.PublicKey.Fingerprint, back.PublicKey.Fingerprint);
        var data = "hello"u8.ToArray();
        foreach (var alg in key.SignatureAlgorithms)
        {
            var sig = back.Sign(alg, data);
            Assert.True(key.PublicKey.Verify(sig, data));
            Assert.False(key.PublicKey.Verify(sig, "hellO"u8));
        }
        Assert.DoesNotContain("ssh-rsa", key.SignatureAlgorithms);
        var line = key.PublicKey.ToAuthorizedKeysLine("c");
        Assert.Equal(key.PublicKey.Blob, SshPublicKey.ParseAuthorizedKeysLine(line).Blob);
        Assert.Equal(key.PublicKey.Blob, SshPublicKey.ParseAuthorizedKeysLine("from=\"10.0.0.1, 10.0.0.2\",no-pty " + line).Blob);
    }

    [Fact]
    public void Rsa_signature_algorithm_must_match_key_and_not_be_sha1()
    {
        using var rsa = SshHostKey.GenerateRsa(2048);
        Assert.Equal(["rsa-sha2-512", "rsa-sha2-256"], rsa.SignatureAlgorithms);
        Assert.Throws<ArgumentException>(() => rsa.Sign("ssh-rsa", [1]));
        var sig = rsa.Sign("rsa-sha2-256", [1, 2]);
        // Relabel the signature as SHA-1 "ssh-rsa": it must be refused.
        var r = new SshReader(sig);
        r.ReadAscii();
        using var w = new SshWriter();
        w.WriteString("ssh-rsa");
        w.WriteString(r.ReadString());
        Assert.False(rsa.PublicKey.Verify(w.WrittenSpan, [1, 2]));
        using var ed = SshHostKey.GenerateEd25519();
        Assert.False(ed.PublicKey.Verify(sig, [1, 2]));
        Assert.False(rsa.PublicKey.Verify([0, 0, 0, 200, 1], [1, 2]));
    }

    [Fact]
    public void Rsa_signature_without_leading_zero_byte_is_accepted()
    {
        using var key = SshHostKey.GenerateRsa(2048);
        for (var i = 0; i < 2000; i++)
        {
            var data = BitConverter.GetBytes(i);
            var blob = key.Sign("rsa-sha2-256", data);
            var r = new SshReader(blob);
            r.ReadAscii();
            var sig = r.ReadString();
            if (sig[0] != 0)
                continue;
            using var w = new SshWriter();
            w.WriteString("rsa-sha2-256");
            w.WriteString(sig[1..]);
            Assert.True(key.PublicKey.Verify(w.WrittenSpan, data));
            return;
        }
        Assert.Fail("no signature with a leading zero byte in 2000 tries");
    }

    [Fact]
    public void Small_rsa_keys_are_refused_for_verification()
    {
        using var small = RSA.Create(1024);
        var p = small.ExportParameters(false);
        var pub = SshPublicKey.FromRsa(p.Modulus, p.Exponent);
        using var w = new SshWriter();
        w.WriteString("rsa-sha2-256");
        w.WriteString(small.SignData([1], HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.False(pub.Verify(w.WrittenSpan, [1]));
    }

    [Fact]
    public void Malformed_public_key_blobs_give_protocol_errors()
    {
        Assert.Throws<SshProtocolException>(() => SshPublicKey.Parse([]));
        Assert.Throws<SshProtocolException>(() => SshPublicKey.Parse([0, 0, 0, 11, (byte)'s']));
        Assert.Throws<SshProtocolException>(() => SshPublicKey.Parse([0xff, 0xff, 0xff, 0xff]));
        using var key = SshHostKey.GenerateEd25519();
        var blob = key.PublicKey.Blob;
        Assert.Throws<SshProtocolException>(() => SshPublicKey.Parse([.. blob, 0]));
        Assert.Throws<SshProtocolException>(() => SshPublicKey.Parse(blob.AsSpan(0, blob.Length - 1)));
    }

    [Fact]
    public void Pkcs8_keys_are_accepted()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var fromEc = SshHostKey.ParseOpenSshPrivateKey(ec.ExportPkcs8PrivateKeyPem());
        Assert.Equal("ecdsa-sha2-nistp256", fromEc.KeyType);
        using var rsa = RSA.Create(2048);
        using var fromRsa = SshHostKey.ParseOpenSshPrivateKey(rsa.ExportPkcs8PrivateKeyPem());
        Assert.Equal("ssh-rsa", fromRsa.KeyType);
        // RFC 8410 §10.3 example Ed25519 private key.
        const string ed = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        using var fromEd = SshHostKey.ParseOpenSshPrivateKey(ed);
        Assert.Equal("ssh-ed25519", fromEd.KeyType);
        var blob = fromEd.PublicKey.Blob;
        Assert.Equal("19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1", Convert.ToHexStringLower(blob.AsSpan(blob.Length - 32)));
    }

    [Fact]
    public void Certificate_public_keys_convert()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var req = new CertificateRequest("CN=device", ec, HashAlgorithmName.SHA384);
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var pub = SshPublicKey.FromCertificate(cert);
        Assert.Equal("ecdsa-sha2-nistp384", pub.KeyType);
        using var rsa = RSA.Create(2048);
        var req2 = new CertificateRequest("CN=device", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert2 = req2.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var p = rsa.ExportParameters(false);
        Assert.Equal(SshPublicKey.FromRsa(p.Modulus, p.Exponent).Blob, SshPublicKey.FromCertificate(cert2).Blob);
        Assert.Equal(SshPublicKey.FromRsa(p.Modulus, p.Exponent), SshPublicKey.FromCertificate(cert2));
        Assert.NotEqual(pub, SshPublicKey.FromCertificate(cert2));
    }
}

[Trait("Category", "Interop")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class KeysInteropTests
{
    private static string KeyGen => ProcessRunner.Find("ssh-keygen") ?? throw new InvalidOperationException("ssh-keygen is not installed");

    [RequiresToolTheory("ssh-keygen")]
    [MemberData(nameof(KeysTests.KeyKinds), MemberType = typeof(KeysTests))]
    public void Ssh_keygen_reads_our_private_key_and_agrees_on_fingerprint(string kind)
    {
        var dir = ProcessRunner.TempDir();
        try
        {
            using var key = KeysTests.Generate(kind);
            var path = Path.Combine(dir, "id");
            ProcessRunner.WritePrivate(path, key.ToOpenSshPrivateKey("ours@test"));
            var (code, stdout, stderr) = ProcessRunner.Run(KeyGen, "-y", "-f", path);
            Assert.True(code == 0, stderr);
            var fields = stdout.Trim().Split(' ');
            Assert.Equal(key.PublicKey.ToAuthorizedKeysLine(), fields[0] + " " + fields[1]);
            (code, stdout, stderr) = ProcessRunner.Run(KeyGen, "-l", "-f", path);
            Assert.True(code == 0, stderr);
            Assert.Equal(key.PublicKey.Fingerprint, stdout.Split(' ')[1]);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [RequiresToolFact("openssl")]
    public void Ed25519_certificate_key_converts_like_ssh_keygen()
    {
        var dir = ProcessRunner.TempDir();
        try
        {
            var key = Path.Combine(dir, "k.pem");
            var crt = Path.Combine(dir, "c.pem");
            var (code, _, err) = ProcessRunner.Run(ProcessRunner.Find("openssl")!, "req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", key, "-out", crt, "-subj", "/CN=device/serialNumber=ABC123", "-days", "1");
            Assert.True(code == 0, err);
            using var cert = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(crt);
            var pub = SshPublicKey.FromCertificate(cert);
            Assert.Equal("ssh-ed25519", pub.KeyType);
            // The private key openssl wrote (PKCS#8) must have the same public key as the certificate.
            using var ours = SshHostKey.ParseOpenSshPrivateKey(File.ReadAllText(key));
            Assert.Equal(ours.PublicKey.Fingerprint, pub.Fingerprint);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [RequiresToolTheory("ssh-keygen")]
    [InlineData("ed25519", "")]
    [InlineData("rsa", "3072")]
    [InlineData("ecdsa", "256")]
    [InlineData("ecdsa", "384")]
    [InlineData("ecdsa", "521")]
    public void We_read_keys_ssh_keygen_generates(string type, string bits)
    {
        var dir = ProcessRunner.TempDir();
        try
        {
            var path = Path.Combine(dir, "id");
            var args = new List<string> { "-q", "-t", type, "-N", "", "-C", "theirs", "-f", path };
            if (bits.Length > 0)
                args.AddRange(["-b", bits]);
            var (code, _, stderr) = ProcessRunner.Run(KeyGen, [.. args]);
            Assert.True(code == 0, stderr);
            using var key = SshHostKey.ParseOpenSshPrivateKey(File.ReadAllText(path));
            var (_, fp, _) = ProcessRunner.Run(KeyGen, "-l", "-f", path);
            Assert.Equal(fp.Split(' ')[1], key.PublicKey.Fingerprint);
            var pub = SshPublicKey.ParseAuthorizedKeysLine(File.ReadAllText(path + ".pub"));
            Assert.Equal(pub.Blob, key.PublicKey.Blob);
            Assert.Equal(fp.Split(' ')[1], pub.Fingerprint);
            var data = "signed"u8.ToArray();
            foreach (var alg in key.SignatureAlgorithms)
                Assert.True(pub.Verify(key.Sign(alg, data), data));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
