using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Transport;

/// <summary>RFC 8308 §2.3 SSH_MSG_EXT_INFO: uint32 count, then (string name, string value) pairs.</summary>
internal sealed record ExtInfoMessage(IReadOnlyDictionary<string, string> Extensions)
{
    public const byte Number = 7;
    public const string ServerSigAlgs = "server-sig-algs";
    private const int MaxExtensions = 64;

    public static ExtInfoMessage Read(ref SshReader r)
    {
        r.ReadByte();
        var count = r.ReadUInt32();
        if (count > MaxExtensions)
            throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Too many extensions");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var name = r.ReadAscii();
            // Values are opaque bytes; the ones we use (server-sig-algs) are ASCII name-lists.
            var value = System.Text.Encoding.ASCII.GetString(r.ReadString());
            map[name] = value;
        }
        r.EnsureEnd();
        return new ExtInfoMessage(map);
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteUInt32((uint)Extensions.Count);
        foreach (var (name, value) in Extensions)
        {
            w.WriteString(name);
            w.WriteString(value);
        }
    }
}
