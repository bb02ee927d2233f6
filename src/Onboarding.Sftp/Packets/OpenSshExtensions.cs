using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>
/// Request and reply bodies of the OpenSSH extensions we speak (OpenSSH PROTOCOL §4). They ride
/// inside SSH_FXP_EXTENDED / SSH_FXP_EXTENDED_REPLY (draft-ietf-secsh-filexfer-02 §8).
/// </summary>
internal static class OpenSshExtensions
{
    public const string PosixRename = "posix-rename@openssh.com";
    public const string StatVfs = "statvfs@openssh.com";
    public const string FStatVfs = "fstatvfs@openssh.com";
    public const string Fsync = "fsync@openssh.com";
    public const string Limits = "limits@openssh.com";

    /// <summary>The pairs our server advertises in SSH_FXP_VERSION, with OpenSSH's version strings.</summary>
    public static IReadOnlyList<SftpExtensionPair> Advertised { get; } =
    [
        new(PosixRename, "1"),
        new(StatVfs, "2"),
        new(Fsync, "1"),
        new(Limits, "1"),
    ];

    /// <summary>PROTOCOL §4.3: posix-rename — string oldpath, string newpath.</summary>
    public static (string OldPath, string NewPath) ReadPosixRename(ReadOnlySpan<byte> data, uint requestId)
    {
        var reader = new SftpReader(data) { RequestId = requestId };
        var oldPath = reader.ReadString();
        var newPath = reader.ReadString();
        reader.EnsureEnd();
        return (oldPath, newPath);
    }

    public static byte[] WritePathPair(string first, string second)
    {
        var writer = new SftpWriter();
        writer.WriteString(first);
        writer.WriteString(second);
        return writer.Payload.ToArray();
    }

    /// <summary>PROTOCOL §4.4 statvfs (string path), fstatvfs and §4.6 fsync (string handle) take one string.</summary>
    public static byte[] ReadSingleString(ReadOnlySpan<byte> data, uint requestId)
    {
        var reader = new SftpReader(data) { RequestId = requestId };
        var value = reader.ReadBinarySpan().ToArray();
        reader.EnsureEnd();
        return value;
    }

    public static byte[] WriteSingleString(ReadOnlySpan<byte> value)
    {
        var writer = new SftpWriter();
        writer.WriteBinary(value);
        return writer.Payload.ToArray();
    }

    /// <summary>PROTOCOL §4.8: limits reply — four uint64.</summary>
    public static byte[] WriteLimits(SftpLimits limits)
    {
        var writer = new SftpWriter();
        writer.WriteUInt64(limits.MaxPacketLength);
        writer.WriteUInt64(limits.MaxReadLength);
        writer.WriteUInt64(limits.MaxWriteLength);
        writer.WriteUInt64(limits.MaxOpenHandles);
        return writer.Payload.ToArray();
    }

    public static SftpLimits ReadLimits(ReadOnlySpan<byte> data)
    {
        var reader = new SftpReader(data);
        var limits = new SftpLimits(reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64());
        reader.EnsureEnd();
        return limits;
    }

    /// <summary>PROTOCOL §4.4: statvfs reply — eleven uint64 in struct statvfs order.</summary>
    public static byte[] WriteStatVfs(SftpStatVfs s)
    {
        var writer = new SftpWriter();
        foreach (var v in new[] { s.BlockSize, s.FragmentSize, s.Blocks, s.FreeBlocks, s.AvailableBlocks, s.Files, s.FreeFiles, s.AvailableFiles, s.FileSystemId, s.Flags, s.MaxNameLength })
        {
            writer.WriteUInt64(v);
        }

        return writer.Payload.ToArray();
    }

    public static SftpStatVfs ReadStatVfs(ReadOnlySpan<byte> data)
    {
        var reader = new SftpReader(data);
        var s = new SftpStatVfs(
            reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(),
            reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64());
        reader.EnsureEnd();
        return s;
    }
}
