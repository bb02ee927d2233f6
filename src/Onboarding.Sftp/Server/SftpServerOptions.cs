using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp;

/// <summary>Limits of one server session; also what limits@openssh.com reports.</summary>
public sealed class SftpServerOptions
{
    /// <summary>Largest packet accepted from the client (length field value).</summary>
    public int MaxPacketLength { get; init; } = SftpFrameReader.DefaultMaxPacketLength;

    /// <summary>
    /// Largest READ answered in one DATA packet. OpenSSH's client refuses packets over 256 KiB,
    /// so the default leaves 1 KiB for headers, as OpenSSH's sftp-server does.
    /// </summary>
    public int MaxReadLength { get; init; } = 256 * 1024 - 1024;

    /// <summary>Largest WRITE data length we advertise; the packet limit is what we enforce.</summary>
    public int MaxWriteLength { get; init; } = 256 * 1024 - 1024;

    public int MaxOpenHandles { get; init; } = 256;

    /// <summary>Requests executing at once; when full, the server stops reading and flow control pushes back.</summary>
    public int MaxInFlightRequests { get; init; } = 64;

    public static SftpServerOptions Default { get; } = new();
}
