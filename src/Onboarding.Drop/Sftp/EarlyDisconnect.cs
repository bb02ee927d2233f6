using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Onboarding.Drop.Sftp;

/// <summary>
/// What a refused connection receives before it is closed: our identification string, then SSH_MSG_DISCONNECT in
/// the clear (RFC 4253 §11.1 allows it at any time; before key exchange a packet has no MAC and is padded to 8).
/// An SSH client then tells its user why instead of reporting a bare "connection closed".
/// </summary>
internal static class EarlyDisconnect
{
    private const byte MessageDisconnect = 1;
    private const uint TooManyConnections = 12; // RFC 4250 §4.2.2: SSH_DISCONNECT_TOO_MANY_CONNECTIONS

    public static byte[] Build(string serverVersion, string description)
    {
        var text = Encoding.UTF8.GetBytes(description);
        var payloadLength = 1 + 4 + 4 + text.Length + 4; // type, reason code, description, empty language tag
        // RFC 4253 §6: padding of 4 to 255 bytes makes length field + padding-length byte + payload + padding a multiple of 8.
        var padding = 8 - ((4 + 1 + payloadLength) % 8);
        if (padding < 4)
            padding += 8;

        var identification = Encoding.ASCII.GetBytes(serverVersion + "\r\n");
        var packet = new byte[identification.Length + 4 + 1 + payloadLength + padding];
        identification.CopyTo(packet, 0);
        var span = packet.AsSpan(identification.Length);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)(1 + payloadLength + padding));
        span[4] = (byte)padding;
        span[5] = MessageDisconnect;
        BinaryPrimitives.WriteUInt32BigEndian(span[6..], TooManyConnections);
        BinaryPrimitives.WriteUInt32BigEndian(span[10..], (uint)text.Length);
        text.CopyTo(span[14..]);
        BinaryPrimitives.WriteUInt32BigEndian(span[(14 + text.Length)..], 0);
        RandomNumberGenerator.Fill(span[(5 + payloadLength)..]);
        return packet;
    }
}
