using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp;

/// <summary>Transfer tuning of <see cref="SftpClient"/>. The defaults mirror OpenSSH's sftp client (64 requests × 32 KiB).</summary>
public sealed class SftpClientOptions
{
    /// <summary>Bytes per WRITE; lowered to the server's limits@openssh.com max-write-length.</summary>
    public int WriteChunkSize { get; init; } = 32 * 1024;

    /// <summary>Bytes per READ; lowered to the server's max-read-length.</summary>
    public int ReadChunkSize { get; init; } = 32 * 1024;

    /// <summary>READ or WRITE requests outstanding at once during a transfer.</summary>
    public int MaxOutstandingRequests { get; init; } = 64;

    /// <summary>Largest packet accepted from the server.</summary>
    public int MaxPacketLength { get; init; } = SftpFrameReader.DefaultMaxPacketLength;

    public static SftpClientOptions Default { get; } = new();
}
