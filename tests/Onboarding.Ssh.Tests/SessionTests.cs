using Onboarding.Ssh.Keys;

namespace Onboarding.Ssh.Tests;

public class SessionTests
{
    public static TheoryData<string, string, string, string> Matrix()
    {
        var data = new TheoryData<string, string, string, string>();
        string[] hostKeys = [SshAlgorithms.Ed25519, SshAlgorithms.RsaSha512, SshAlgorithms.RsaSha256, SshAlgorithms.EcdsaNistp256, SshAlgorithms.EcdsaNistp384];
        (string Cipher, string Mac)[] ciphers =
        [
            (SshAlgorithms.ChaCha20Poly1305, SshAlgorithms.HmacSha256Etm),
            (SshAlgorithms.Aes128Gcm, SshAlgorithms.HmacSha256Etm),
            (SshAlgorithms.Aes256Gcm, SshAlgorithms.HmacSha256Etm),
            (SshAlgorithms.Aes128Ctr, SshAlgorithms.HmacSha256Etm),
            (SshAlgorithms.Aes256Ctr, SshAlgorithms.HmacSha512Etm),
            (SshAlgorithms.Aes128Ctr, SshAlgorithms.HmacSha512Etm),
        ];
        foreach (var kex in SshAlgorithms.AllKeyExchange)
        {
            foreach (var hk in hostKeys)
            {
                foreach (var (cipher, mac) in ciphers)
                    data.Add(kex, hk, cipher, mac);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Exec_round_trip_for_every_algorithm_combination(string kex, string hostKey, string cipher, string mac)
    {
        var serverOptions = SessionPair.ServerOptions(SessionPair.HostKeyFor(hostKey));
        SshPublicKey? seen = null;
        var clientOptions = new SshClientOptions
        {
            UserName = "alice",
            Password = "secret",
            HostKeyVerifier = (k, _) =>
            {
                seen = k.HostKey;
                return ValueTask.FromResult(true);
            },
            KeyExchangeAlgorithms = [kex],
            HostKeyAlgorithms = [hostKey],
            Ciphers = [cipher],
            Macs = [mac],
        };
        var (client, server) = await SessionPair.ConnectAsync(serverOptions, clientOptions);
        await using (client)
        await using (server)
        {
            var alg = client.Transport.Algorithms!;
            Assert.Equal(kex, alg.KeyExchange);
            Assert.Equal(hostKey, alg.HostKey);
            Assert.Equal(cipher, alg.CipherClientToServer);
            Assert.True(client.Transport.StrictKex);
            Assert.Equal(SessionPair.HostKeyFor(hostKey).PublicKey.Fingerprint, seen!.Fingerprint);
            var (output, status) = await SessionPair.ExecAsync(client, "hello", "world");
            Assert.Equal("hello:world", output);
            Assert.Equal(42u, status);
            Assert.Equal("alice", server.UserName);
        }
    }
}
