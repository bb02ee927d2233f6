using Onboarding.Ssh.Keys;
using Onboarding.Ssh.Transport;

namespace Onboarding.Ssh.Tests;

public class TransportPairTests
{
    internal static TransportSettings Server(SshHostKey key, string kex, string cipher, string mac = SshAlgorithms.HmacSha256Etm) => new()
    {
        IsServer = true,
        Version = "SSH-2.0-Test_Server",
        KeyExchange = [kex],
        Ciphers = [cipher],
        Macs = [mac],
        HostKeys = [key],
    };

    internal static TransportSettings Client(string kex, string cipher, string mac = SshAlgorithms.HmacSha256Etm) => new()
    {
        IsServer = false,
        Version = "SSH-2.0-Test_Client",
        KeyExchange = [kex],
        Ciphers = [cipher],
        Macs = [mac],
        HostKeyAlgorithms = SshAlgorithms.ClientHostKeys,
        HostKeyVerifier = (_, _) => ValueTask.FromResult(true),
    };

    [Theory]
    [InlineData(SshAlgorithms.Curve25519Sha256, SshAlgorithms.Aes128Gcm)]
    [InlineData(SshAlgorithms.Curve25519Sha256Libssh, SshAlgorithms.ChaCha20Poly1305)]
    [InlineData(SshAlgorithms.EcdhNistp256, SshAlgorithms.Aes256Ctr)]
    [InlineData(SshAlgorithms.DhGroup14Sha256, SshAlgorithms.Aes256Gcm)]
    [InlineData(SshAlgorithms.DhGroup16Sha512, SshAlgorithms.Aes128Ctr)]
    public async Task Transports_agree_and_exchange_messages(string kex, string cipher)
    {
        using var key = SshHostKey.GenerateEd25519();
        var (c, s) = await LoopbackPair.CreateAsync();
        await using var client = new SshTransport(c, Client(kex, cipher));
        await using var server = new SshTransport(s, Server(key, kex, cipher));
        await Task.WhenAll(client.StartAsync(default), server.StartAsync(default)).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(client.StrictKex);
        Assert.Equal(key.PublicKey.Blob, client.ServerHostKey!.Blob);
        await client.SendAsync(new byte[] { 50, 1, 2, 3 }, default);
        var got = await server.ReceiveAsync(default).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new byte[] { 50, 1, 2, 3 }, got);
        await server.SendAsync(new byte[] { 51, 9 }, default);
        Assert.Equal(new byte[] { 51, 9 }, await client.ReceiveAsync(default).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains(SshAlgorithms.RsaSha512, client.ServerSigAlgs!);
    }
}
