using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>An extension name/data pair of INIT or VERSION (draft-ietf-secsh-filexfer-02 §4).</summary>
internal sealed record SftpExtensionPair(string Name, string Data);

/// <summary>draft-ietf-secsh-filexfer-02 §4: SSH_FXP_INIT — uint32 version, then extension pairs. No request id.</summary>
internal sealed class InitPacket(uint version, IReadOnlyList<SftpExtensionPair> extensions) : SftpPacket
{
    public const byte Number = 1;

    public override byte Type => Number;

    public uint Version { get; } = version;

    public IReadOnlyList<SftpExtensionPair> Extensions { get; } = extensions;

    public static InitPacket Read(ref SftpReader reader)
    {
        var version = reader.ReadUInt32();
        return new InitPacket(version, ReadExtensionPairs(ref reader));
    }

    /// <summary>§4: extension pairs continue to the end of the packet.</summary>
    internal static List<SftpExtensionPair> ReadExtensionPairs(ref SftpReader reader)
    {
        var list = new List<SftpExtensionPair>();
        while (reader.Remaining > 0)
        {
            var name = reader.ReadString();
            var data = reader.ReadString();
            list.Add(new SftpExtensionPair(name, data));
        }

        return list;
    }

    internal static void WriteExtensionPairs(SftpWriter writer, IReadOnlyList<SftpExtensionPair> extensions)
    {
        foreach (var e in extensions)
        {
            writer.WriteString(e.Name);
            writer.WriteString(e.Data);
        }
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(Version);
        WriteExtensionPairs(writer, Extensions);
    }
}
