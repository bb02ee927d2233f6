using System.Security.Cryptography;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.KeyExchange;

/// <summary>RFC 4253 §7.1 SSH_MSG_KEXINIT.</summary>
internal sealed record KexInitMessage
{
    public const byte Number = 20;

    public required string[] KexAlgorithms { get; init; }
    public required string[] ServerHostKeyAlgorithms { get; init; }
    public required string[] EncryptionClientToServer { get; init; }
    public required string[] EncryptionServerToClient { get; init; }
    public required string[] MacClientToServer { get; init; }
    public required string[] MacServerToClient { get; init; }
    public string[] CompressionClientToServer { get; init; } = ["none"];
    public string[] CompressionServerToClient { get; init; } = ["none"];
    public string[] LanguagesClientToServer { get; init; } = [];
    public string[] LanguagesServerToClient { get; init; } = [];
    public bool FirstKexPacketFollows { get; init; }

    public static KexInitMessage Read(ref SshReader r)
    {
        r.ReadByte();
        r.ReadBytes(16); // cookie
        var m = new KexInitMessage
        {
            KexAlgorithms = r.ReadNameList(),
            ServerHostKeyAlgorithms = r.ReadNameList(),
            EncryptionClientToServer = r.ReadNameList(),
            EncryptionServerToClient = r.ReadNameList(),
            MacClientToServer = r.ReadNameList(),
            MacServerToClient = r.ReadNameList(),
            CompressionClientToServer = r.ReadNameList(),
            CompressionServerToClient = r.ReadNameList(),
            LanguagesClientToServer = r.ReadNameList(),
            LanguagesServerToClient = r.ReadNameList(),
            FirstKexPacketFollows = r.ReadBoolean(),
        };
        r.ReadUInt32(); // reserved
        r.EnsureEnd();
        return m;
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        RandomNumberGenerator.Fill(w.GetSpan(16));
        w.WriteNameList(KexAlgorithms);
        w.WriteNameList(ServerHostKeyAlgorithms);
        w.WriteNameList(EncryptionClientToServer);
        w.WriteNameList(EncryptionServerToClient);
        w.WriteNameList(MacClientToServer);
        w.WriteNameList(MacServerToClient);
        w.WriteNameList(CompressionClientToServer);
        w.WriteNameList(CompressionServerToClient);
        w.WriteNameList(LanguagesClientToServer);
        w.WriteNameList(LanguagesServerToClient);
        w.WriteBoolean(FirstKexPacketFollows);
        w.WriteUInt32(0);
    }
}
