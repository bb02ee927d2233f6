using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.KeyExchange;

/// <summary>
/// SSH_MSG_KEX_ECDH_INIT / SSH_MSG_KEXDH_INIT (30): the client's ephemeral public value.
/// RFC 5656 §4 / RFC 8731 §3 send it as a string Q_C; RFC 4253 §8 DH sends it as mpint e.
/// The value is kept in the encoding-neutral form (string bytes / unsigned mpint magnitude).
/// </summary>
internal readonly record struct KexEcdhInitMessage(byte[] ClientPublic)
{
    public const byte Number = 30;

    public static KexEcdhInitMessage Read(ref SshReader r, bool mpint)
    {
        r.ReadByte();
        var value = mpint ? r.ReadMpintUnsigned() : r.ReadString();
        r.EnsureEnd();
        return new KexEcdhInitMessage(value.ToArray());
    }

    public void Write(SshWriter w, bool mpint)
    {
        w.WriteByte(Number);
        if (mpint)
            w.WriteMpintUnsigned(ClientPublic);
        else
            w.WriteString(ClientPublic);
    }
}
