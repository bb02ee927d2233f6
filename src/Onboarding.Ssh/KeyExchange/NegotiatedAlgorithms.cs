using Onboarding.Ssh.Transport;

namespace Onboarding.Ssh.KeyExchange;

/// <summary>RFC 4253 §7.1 algorithm negotiation: the first client algorithm the server also supports.</summary>
internal sealed record NegotiatedAlgorithms(
    string KeyExchange, string HostKey, string CipherClientToServer, string CipherServerToClient, string? MacClientToServer, string? MacServerToClient)
{
    public static NegotiatedAlgorithms Negotiate(KexInitMessage client, KexInitMessage server)
    {
        var kex = Pick(client.KexAlgorithms, server.KexAlgorithms, "key exchange", KeyExchangeMethod.IsSupported);
        var hostKey = Pick(client.ServerHostKeyAlgorithms, server.ServerHostKeyAlgorithms, "host key", _ => true);
        var cs = Pick(client.EncryptionClientToServer, server.EncryptionClientToServer, "cipher", PacketCipherFactory.IsSupportedCipher);
        var sc = Pick(client.EncryptionServerToClient, server.EncryptionServerToClient, "cipher", PacketCipherFactory.IsSupportedCipher);
        var macCs = PacketCipherFactory.IsAead(cs) ? null : Pick(client.MacClientToServer, server.MacClientToServer, "MAC", PacketCipherFactory.IsSupportedMac);
        var macSc = PacketCipherFactory.IsAead(sc) ? null : Pick(client.MacServerToClient, server.MacServerToClient, "MAC", PacketCipherFactory.IsSupportedMac);
        Pick(client.CompressionClientToServer, server.CompressionClientToServer, "compression", n => n == "none");
        Pick(client.CompressionServerToClient, server.CompressionServerToClient, "compression", n => n == "none");
        return new NegotiatedAlgorithms(kex, hostKey, cs, sc, macCs, macSc);
    }

    private static string Pick(string[] client, string[] server, string what, Func<string, bool> supported)
    {
        foreach (var c in client)
        {
            if (supported(c) && Array.IndexOf(server, c) >= 0)
                return c;
        }
        throw new SshProtocolException(SshDisconnectReason.KeyExchangeFailed, $"No common {what} algorithm");
    }
}
