using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §4: SSH_FXP_VERSION — the server's version and its extensions.</summary>
internal sealed class VersionPacket(uint version, IReadOnlyList<SftpExtensionPair> extensions) : SftpPacket
{
    public const byte Number = 2;

    public override byte Type => Number;

    public uint Version { get; } = version;

    public IReadOnlyList<SftpExtensionPair> Extensions { get; } = extensions;

    public static VersionPacket Read(ref SftpReader reader)
    {
        var version = reader.ReadUInt32();
        return new VersionPacket(version, InitPacket.ReadExtensionPairs(ref reader));
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(Version);
        InitPacket.WriteExtensionPairs(writer, Extensions);
    }
}
