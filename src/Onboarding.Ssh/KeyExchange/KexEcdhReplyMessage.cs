using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.KeyExchange;

/// <summary>SSH_MSG_KEX_ECDH_REPLY / SSH_MSG_KEXDH_REPLY (31): string K_S, Q_S (string) or f (mpint), string signature of H.</summary>
internal readonly record struct KexEcdhReplyMessage(byte[] HostKey, byte[] ServerPublic, byte[] Signature)
{
    public const byte Number = 31;

    public static KexEcdhReplyMessage Read(ref SshReader r, bool mpint)
    {
        r.ReadByte();
        var hostKey = r.ReadString().ToArray();
        var value = (mpint ? r.ReadMpintUnsigned() : r.ReadString()).ToArray();
        var signature = r.ReadString().ToArray();
        r.EnsureEnd();
        return new KexEcdhReplyMessage(hostKey, value, signature);
    }

    public void Write(SshWriter w, bool mpint)
    {
        w.WriteByte(Number);
        w.WriteString(HostKey);
        if (mpint)
            w.WriteMpintUnsigned(ServerPublic);
        else
            w.WriteString(ServerPublic);
        w.WriteString(Signature);
    }
}
