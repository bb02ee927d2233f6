using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp;

/// <summary>One extended attribute pair of ATTRS (draft-ietf-secsh-filexfer-02 §5).</summary>
public sealed record SftpExtendedAttr(string Type, ReadOnlyMemory<byte> Data);

/// <summary>
/// draft-ietf-secsh-filexfer-02 §5: file attributes. A field is present on the wire when it is
/// non-null here; uid/gid and atime/mtime travel in pairs, so setting one of a pair sends the
/// other as zero.
/// </summary>
public sealed record SftpAttributes
{
    // §5: flag bits.
    internal const uint FlagSize = 0x00000001;
    internal const uint FlagUidGid = 0x00000002;
    internal const uint FlagPermissions = 0x00000004;
    internal const uint FlagAcModTime = 0x00000008;
    internal const uint FlagExtended = 0x80000000;

    public static SftpAttributes Empty { get; } = new();

    public ulong? Size { get; init; }

    public uint? UserId { get; init; }

    public uint? GroupId { get; init; }

    /// <summary>POSIX st_mode: file type bits and permission bits.</summary>
    public uint? Permissions { get; init; }

    /// <summary>Seconds since 1970-01-01 UTC.</summary>
    public uint? AccessTime { get; init; }

    /// <summary>Seconds since 1970-01-01 UTC.</summary>
    public uint? ModifyTime { get; init; }

    public IReadOnlyList<SftpExtendedAttr> Extended { get; init; } = [];

    /// <summary>The flags word that <see cref="Write"/> puts on the wire.</summary>
    public uint Flags =>
        (Size.HasValue ? FlagSize : 0)
        | (UserId.HasValue || GroupId.HasValue ? FlagUidGid : 0)
        | (Permissions.HasValue ? FlagPermissions : 0)
        | (AccessTime.HasValue || ModifyTime.HasValue ? FlagAcModTime : 0)
        | (Extended.Count > 0 ? FlagExtended : 0);

    public bool IsDirectory => Permissions is { } p && (p & 0xF000) == 0x4000;

    public bool IsRegularFile => Permissions is { } p && (p & 0xF000) == 0x8000;

    public bool IsSymbolicLink => Permissions is { } p && (p & 0xF000) == 0xA000;

    public DateTimeOffset? ModifyTimeUtc => ModifyTime is { } m ? DateTimeOffset.FromUnixTimeSeconds(m) : null;

    internal static SftpAttributes Read(ref SftpReader reader)
    {
        // §5: fields appear in flag-bit order; bits we do not know carry no data in version 3.
        var flags = reader.ReadUInt32();
        ulong? size = (flags & FlagSize) != 0 ? reader.ReadUInt64() : null;
        uint? uid = null, gid = null, perms = null, atime = null, mtime = null;
        if ((flags & FlagUidGid) != 0)
        {
            uid = reader.ReadUInt32();
            gid = reader.ReadUInt32();
        }

        if ((flags & FlagPermissions) != 0)
        {
            perms = reader.ReadUInt32();
        }

        if ((flags & FlagAcModTime) != 0)
        {
            atime = reader.ReadUInt32();
            mtime = reader.ReadUInt32();
        }

        IReadOnlyList<SftpExtendedAttr> extended = [];
        if ((flags & FlagExtended) != 0)
        {
            var count = reader.ReadUInt32();
            // Each pair needs at least two empty strings (8 bytes): bound the list before allocating it.
            reader.EnsureAvailable(count, 8);
            var list = new List<SftpExtendedAttr>((int)count);
            for (var i = 0u; i < count; i++)
            {
                var type = reader.ReadString();
                var data = reader.ReadBinary();
                list.Add(new SftpExtendedAttr(type, data));
            }

            extended = list;
        }

        return new SftpAttributes
        {
            Size = size,
            UserId = uid,
            GroupId = gid,
            Permissions = perms,
            AccessTime = atime,
            ModifyTime = mtime,
            Extended = extended,
        };
    }

    internal void Write(SftpWriter writer)
    {
        var flags = Flags;
        writer.WriteUInt32(flags);
        if (Size is { } size)
        {
            writer.WriteUInt64(size);
        }

        if ((flags & FlagUidGid) != 0)
        {
            writer.WriteUInt32(UserId ?? 0);
            writer.WriteUInt32(GroupId ?? 0);
        }

        if (Permissions is { } perms)
        {
            writer.WriteUInt32(perms);
        }

        if ((flags & FlagAcModTime) != 0)
        {
            writer.WriteUInt32(AccessTime ?? 0);
            writer.WriteUInt32(ModifyTime ?? 0);
        }

        if ((flags & FlagExtended) != 0)
        {
            writer.WriteUInt32((uint)Extended.Count);
            foreach (var e in Extended)
            {
                writer.WriteString(e.Type);
                writer.WriteBinary(e.Data.Span);
            }
        }
    }
}
