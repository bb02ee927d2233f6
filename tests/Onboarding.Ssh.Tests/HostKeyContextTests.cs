using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Onboarding.Ssh.Keys;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Tests;

/// <summary>The client's host-key verifier context: key or RFC 6187 chain, pre-banner lines, remote endpoint.</summary>
public class HostKeyContextTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static SshClientOptions Client(Func<SshHostKeyContext, bool> verify, params string[] hostKeyAlgorithms) => new()
    {
        UserName = "alice",
        Password = "secret",
        HostKeyVerifier = (context, _) => ValueTask.FromResult(verify(context)),
        HostKeyAlgorithms = hostKeyAlgorithms.Length == 0 ? SshAlgorithms.ClientHostKeys : hostKeyAlgorithms,
    };

    [Fact]
    public async Task Verifier_sees_the_host_key_the_pre_banner_lines_without_NULs_and_the_given_endpoint()
    {
        var hostKey = SessionPair.HostKeyFor(SshAlgorithms.Ed25519);
        var (c, s) = await LoopbackPair.CreateAsync();
        // Juniper outbound-ssh: HOST-KEY carries a whole RSA key, longer than an identification string may be.
        var longLine = "HOST-KEY: ssh-rsa " + new string('A', 700);
        await s.WriteAsync(Encoding.ASCII.GetBytes("MSG-ID: DEVICE-CONN-INFO\r\nDEVICE-ID: rou\0ter-1\r\n" + longLine + "\r\n"));
        var serverTask = SshServerSession.AcceptAsync(s, SessionPair.ServerOptions(hostKey));
        SshHostKeyContext? seen = null;
        var endpoint = new DnsEndPoint("router-1.example", 4334);
        await using var client = await SshClientSession.ConnectAsync(c, Client(ctx => (seen = ctx) is not null), endpoint).WaitAsync(Timeout);
        await using var server = await serverTask.WaitAsync(Timeout);
        Assert.NotNull(seen);
        Assert.Equal(hostKey.PublicKey, seen.HostKey);
        Assert.Equal(SshAlgorithms.Ed25519, seen.HostKeyAlgorithm);
        Assert.Empty(seen.CertificateChain);
        Assert.Equal(["MSG-ID: DEVICE-CONN-INFO", "DEVICE-ID: router-1", longLine], seen.PreBannerLines);
        Assert.Equal(endpoint, seen.RemoteEndPoint);
        Assert.Equal("SSH-2.0-Onboarding_1.0", seen.ServerVersion);
        Assert.Same(seen, client.HostKeyContext);
    }

    [Fact]
    public async Task Remote_endpoint_defaults_to_the_network_streams_peer()
    {
        var (c, s) = await LoopbackPair.CreateAsync();
        var expected = c.Socket.RemoteEndPoint;
        var serverTask = SshServerSession.AcceptAsync(s, SessionPair.ServerOptions(SessionPair.HostKeyFor(SshAlgorithms.Ed25519)));
        EndPoint? seen = null;
        await using var client = await SshClientSession.ConnectAsync(c, Client(ctx => (seen = ctx.RemoteEndPoint) is not null)).WaitAsync(Timeout);
        await using var server = await serverTask.WaitAsync(Timeout);
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task An_identification_string_with_a_NUL_is_refused()
    {
        var (c, s) = await LoopbackPair.CreateAsync();
        await s.WriteAsync(Encoding.ASCII.GetBytes("SSH-2.0-Bad\0Server\r\n"));
        var error = await Assert.ThrowsAsync<SshProtocolException>(() => SshClientSession.ConnectAsync(c, Client(_ => true)).WaitAsync(Timeout));
        Assert.Contains("NUL", error.Message, StringComparison.Ordinal);
        await s.DisposeAsync();
    }

    [Theory]
    [InlineData(SshAlgorithms.X509EcdsaNistp256)]
    [InlineData(SshAlgorithms.X509Rsa2048Sha256)]
    public async Task Client_verifies_an_x509v3_host_key_and_hands_the_chain_to_the_verifier(string algorithm)
    {
        using var chain = TestChain.Create(algorithm == SshAlgorithms.X509EcdsaNistp256 ? "ecdsa" : "rsa");
        using var hostKey = new X509CertificateHostKey(chain.LeafKey, algorithm, [chain.Leaf, chain.Ca]);
        SshHostKeyContext? seen = null;
        var (client, server) = await SessionPair.ConnectAsync(SessionPair.ServerOptions(hostKey), Client(ctx => (seen = ctx) is not null, algorithm));
        await using (client)
        await using (server)
        {
            Assert.Equal(algorithm, client.Transport.Algorithms!.HostKey);
            Assert.Equal(algorithm, seen!.HostKeyAlgorithm);
            Assert.Equal(chain.LeafKey.PublicKey, seen.HostKey);
            Assert.Equal([chain.Leaf.Thumbprint, chain.Ca.Thumbprint], seen.CertificateChain.Select(x => x.Thumbprint));
            var (output, status) = await SessionPair.ExecAsync(client, "hello", "x509");
            Assert.Equal("hello:x509", output);
            Assert.Equal(42u, status);
        }
    }

    [Fact]
    public async Task Verifier_refusal_of_an_x509v3_chain_ends_the_handshake()
    {
        using var chain = TestChain.Create("ecdsa");
        using var hostKey = new X509CertificateHostKey(chain.LeafKey, SshAlgorithms.X509EcdsaNistp256, [chain.Leaf]);
        var (c, s) = await LoopbackPair.CreateAsync();
        var serverTask = SshServerSession.AcceptAsync(s, SessionPair.ServerOptions(hostKey));
        var error = await Assert.ThrowsAsync<SshProtocolException>(() => SshClientSession.ConnectAsync(c,
            Client(ctx => ctx.CertificateChain[0].Subject == "CN=someone-else", SshAlgorithms.X509EcdsaNistp256)).WaitAsync(Timeout));
        Assert.Equal(SshDisconnectReason.HostKeyNotVerifiable, error.Reason);
        await Assert.ThrowsAnyAsync<Exception>(() => serverTask.WaitAsync(Timeout));
    }

    [Fact]
    public void X509_host_key_signature_must_come_from_the_leaf_key_under_the_rfc_6187_format()
    {
        using var chain = TestChain.Create("ecdsa");
        var blob = X509HostKey.Encode(SshAlgorithms.X509EcdsaNistp256, [chain.Leaf, chain.Ca]);
        var parsed = X509HostKey.Parse(SshAlgorithms.X509EcdsaNistp256, blob);
        Assert.Equal(2, parsed.Chain.Count);
        var data = RandomNumberGenerator.GetBytes(32);
        var good = chain.LeafKey.Sign(SshAlgorithms.EcdsaNistp256, data);
        Assert.True(parsed.Verify(SshAlgorithms.X509EcdsaNistp256, good, data));
        Assert.False(parsed.Verify(SshAlgorithms.X509EcdsaNistp256, good, RandomNumberGenerator.GetBytes(32)));
        using var other = SshHostKey.GenerateEcdsa(256);
        Assert.False(parsed.Verify(SshAlgorithms.X509EcdsaNistp256, other.Sign(SshAlgorithms.EcdsaNistp256, data), data));

        using var rsaChain = TestChain.Create("rsa");
        var rsa = X509HostKey.Parse(SshAlgorithms.X509Rsa2048Sha256, X509HostKey.Encode(SshAlgorithms.X509Rsa2048Sha256, [rsaChain.Leaf]));
        var plain = rsaChain.LeafKey.Sign(SshAlgorithms.RsaSha256, data);
        // The plain "rsa-sha2-256" name is not the RFC 6187 format: only "rsa2048-sha256" is.
        Assert.False(rsa.Verify(SshAlgorithms.X509Rsa2048Sha256, plain, data));
        Assert.True(rsa.Verify(SshAlgorithms.X509Rsa2048Sha256, Rename(plain, "rsa2048-sha256"), data));
    }

    [Fact]
    public void Malformed_x509_host_key_blobs_are_protocol_errors()
    {
        using var chain = TestChain.Create("ecdsa");
        static SshProtocolException Refused(string algorithm, byte[] blob) =>
            Assert.Throws<SshProtocolException>(() => X509HostKey.Parse(algorithm, blob));

        Assert.Contains("1 to 8", Refused(SshAlgorithms.X509EcdsaNistp256, Blob(SshAlgorithms.X509EcdsaNistp256, w => w.WriteUInt32(0))).Message, StringComparison.Ordinal);
        Assert.Contains("1 to 8", Refused(SshAlgorithms.X509EcdsaNistp256, Blob(SshAlgorithms.X509EcdsaNistp256, w => w.WriteUInt32(1000))).Message, StringComparison.Ordinal);
        Assert.Contains("cannot be read", Refused(SshAlgorithms.X509EcdsaNistp256, Blob(SshAlgorithms.X509EcdsaNistp256, w =>
        {
            w.WriteUInt32(1);
            w.WriteString("not DER"u8);
            w.WriteUInt32(0);
        })).Message, StringComparison.Ordinal);
        // An ECDSA leaf presented as an ed25519 or RSA certificate key.
        Assert.Contains("does not match", Refused(SshAlgorithms.X509Ed25519, X509HostKey.Encode(SshAlgorithms.X509Ed25519, [chain.Leaf])).Message, StringComparison.Ordinal);
        Assert.Contains("does not match", Refused(SshAlgorithms.X509Rsa2048Sha256, X509HostKey.Encode(SshAlgorithms.X509Rsa2048Sha256, [chain.Leaf])).Message, StringComparison.Ordinal);
        // The blob must name the negotiated algorithm, and nothing may follow it.
        Assert.Contains("does not name", Refused(SshAlgorithms.X509Rsa2048Sha256, X509HostKey.Encode(SshAlgorithms.X509EcdsaNistp256, [chain.Leaf])).Message, StringComparison.Ordinal);
        var trailing = X509HostKey.Encode(SshAlgorithms.X509EcdsaNistp256, [chain.Leaf]).Append((byte)0).ToArray();
        Refused(SshAlgorithms.X509EcdsaNistp256, trailing);
        Refused(SshAlgorithms.X509EcdsaNistp256, X509HostKey.Encode(SshAlgorithms.X509EcdsaNistp256, [chain.Leaf])[..^3]);
    }

    private static byte[] Blob(string algorithm, Action<SshWriter> rest)
    {
        using var w = new SshWriter();
        w.WriteString(algorithm);
        rest(w);
        return w.ToArray();
    }

    private static byte[] Rename(byte[] signatureBlob, string format)
    {
        var r = new SshReader(signatureBlob);
        r.ReadAscii();
        using var w = new SshWriter();
        w.WriteString(format);
        w.WriteString(r.ReadString());
        return w.ToArray();
    }

    /// <summary>A CA and a leaf certificate it issued for an SSH host key, generated for the test.</summary>
    private sealed class TestChain : IDisposable
    {
        public required X509Certificate2 Ca { get; init; }
        public required X509Certificate2 Leaf { get; init; }
        public required SshHostKey LeafKey { get; init; }

        public static TestChain Create(string leafKind)
        {
            using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var caRequest = new CertificateRequest("CN=Manufacturer CA", caKey, HashAlgorithmName.SHA256);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            var now = DateTimeOffset.UtcNow;
            var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
            CertificateRequest leafRequest;
            string pem;
            if (leafKind == "rsa")
            {
                using var rsa = RSA.Create(3072);
                leafRequest = new CertificateRequest("CN=device-1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                pem = rsa.ExportPkcs8PrivateKeyPem();
            }
            else
            {
                using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                leafRequest = new CertificateRequest("CN=device-1", ec, HashAlgorithmName.SHA256);
                pem = ec.ExportPkcs8PrivateKeyPem();
            }
            // The CA is ECDSA whatever the leaf's key: sign with the CA's key explicitly.
            using var caSigner = ca.GetECDsaPrivateKey()!;
            using var signed = leafRequest.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caSigner), now.AddMinutes(-5), now.AddDays(1), [1, 2, 3, 4]);
            var leaf = X509CertificateLoader.LoadCertificate(signed.RawData);
            return new TestChain { Ca = ca, Leaf = leaf, LeafKey = SshHostKey.ParseOpenSshPrivateKey(pem) };
        }

        public void Dispose()
        {
            Ca.Dispose();
            Leaf.Dispose();
            LeafKey.Dispose();
        }
    }
}
