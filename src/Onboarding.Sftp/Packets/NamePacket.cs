using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §7: SSH_FXP_NAME — count, then filename, longname, attrs per entry.</summary>
internal sealed class NamePacket(uint requestId, IReadOnlyList<SftpFileEntry> entries) : SftpRequest(requestId)
{
    public const byte Number = 104;

    public override byte Type => Number;

    public IReadOnlyList<SftpFileEntry> Entries { get; } = entries;

    protected override int SizeHint => Entries.Count * 128;

    public static NamePacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        var count = reader.ReadUInt32();
        // An entry is at least two empty strings and a flags word: 12 bytes.
        reader.EnsureAvailable(count, 12);
        var entries = new List<SftpFileEntry>((int)count);
        for (var i = 0u; i < count; i++)
        {
            var name = reader.ReadString();
            var longName = reader.ReadString();
            entries.Add(new SftpFileEntry(name, longName, SftpAttributes.Read(ref reader)));
        }

        return new NamePacket(id, entries);
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteUInt32((uint)Entries.Count);
        foreach (var e in Entries)
        {
            writer.WriteString(e.FileName);
            writer.WriteString(e.LongName);
            e.Attributes.Write(writer);
        }
    }
}
