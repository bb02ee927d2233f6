using System.Buffers;
using Onboarding.Sftp.Packets;
using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Tests;

/// <summary>Each packet type against bytes written out by hand from draft-ietf-secsh-filexfer-02.</summary>
public class GoldenPacketTests
{
    private static readonly byte[] H = "h"u8.ToArray();

    internal static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    internal static IEnumerable<(string Name, SftpPacket Packet, string Hex)> Cases()
    {
        yield return ("INIT", new InitPacket(3, []), "00000005 01 00000003");
        yield return ("VERSION", new VersionPacket(3, [new SftpExtensionPair("a", "1")]), "0000000f 02 00000003 00000001 61 00000001 31");
        yield return ("OPEN", new OpenPacket(1, "/f", SftpOpenFlags.Read | SftpOpenFlags.Write | SftpOpenFlags.Create, new SftpAttributes { Permissions = 0x1a4 }),
            "00000017 03 00000001 00000002 2f66 0000000b 00000004 000001a4");
        yield return ("CLOSE", new ClosePacket(2, H), "0000000a 04 00000002 00000001 68");
        yield return ("READ", new ReadPacket(3, H, 0x10000, 32768), "00000016 05 00000003 00000001 68 0000000000010000 00008000");
        yield return ("WRITE", new WritePacket(4, H, 5, "abc"u8.ToArray()), "00000019 06 00000004 00000001 68 0000000000000005 00000003 616263");
        yield return ("LSTAT", new LStatPacket(5, "/"), "0000000a 07 00000005 00000001 2f");
        yield return ("FSTAT", new FStatPacket(6, H), "0000000a 08 00000006 00000001 68");
        yield return ("SETSTAT", new SetStatPacket(7, "/f", new SftpAttributes { Size = 0x10 }), "00000017 09 00000007 00000002 2f66 00000001 0000000000000010");
        yield return ("FSETSTAT", new FSetStatPacket(8, H, new SftpAttributes { AccessTime = 1, ModifyTime = 2 }), "00000016 0a 00000008 00000001 68 00000008 00000001 00000002");
        yield return ("OPENDIR", new OpenDirPacket(9, "/d"), "0000000b 0b 00000009 00000002 2f64");
        yield return ("READDIR", new ReadDirPacket(10, H), "0000000a 0c 0000000a 00000001 68");
        yield return ("REMOVE", new RemovePacket(11, "/f"), "0000000b 0d 0000000b 00000002 2f66");
        yield return ("MKDIR", new MkDirPacket(12, "/d", new SftpAttributes { Permissions = 0x1ed }), "00000013 0e 0000000c 00000002 2f64 00000004 000001ed");
        yield return ("RMDIR", new RmDirPacket(13, "/d"), "0000000b 0f 0000000d 00000002 2f64");
        yield return ("REALPATH", new RealPathPacket(14, "."), "0000000a 10 0000000e 00000001 2e");
        yield return ("STAT", new StatPacket(15, "/f"), "0000000b 11 0000000f 00000002 2f66");
        yield return ("RENAME", new RenamePacket(16, "a", "b"), "0000000f 12 00000010 00000001 61 00000001 62");
        yield return ("READLINK", new ReadLinkPacket(17, "l"), "0000000a 13 00000011 00000001 6c");
        yield return ("SYMLINK", new SymlinkPacket(18, "t", "l"), "0000000f 14 00000012 00000001 74 00000001 6c");
        yield return ("STATUS", new StatusPacket(19, SftpStatusCode.Failure, "no"), "00000013 65 00000013 00000004 00000002 6e6f 00000000");
        yield return ("HANDLE", new HandlePacket(20, H), "0000000a 66 00000014 00000001 68");
        yield return ("DATA", new DataPacket(21, "xy"u8.ToArray()), "0000000b 67 00000015 00000002 7879");
        yield return ("NAME", new NamePacket(22, [new SftpFileEntry("a", "-rw a", new SftpAttributes { Size = 3 })]),
            "00000023 68 00000016 00000001 00000001 61 00000005 2d72772061 00000001 0000000000000003");
        yield return ("ATTRS", new AttrsPacket(23, new SftpAttributes
        {
            Size = 1, UserId = 2, GroupId = 3, Permissions = 0x81a4, AccessTime = 4, ModifyTime = 5,
            Extended = [new SftpExtendedAttr("t", "d"u8.ToArray())],
        }), "00000033 69 00000017 8000000f 0000000000000001 00000002 00000003 000081a4 00000004 00000005 00000001 00000001 74 00000001 64");
        yield return ("EXTENDED", new ExtendedPacket(24, "limits@openssh.com", ReadOnlyMemory<byte>.Empty),
            "0000001b c8 00000018 00000012 6c696d697473406f70656e7373682e636f6d");
        yield return ("EXTENDED_REPLY", new ExtendedReplyPacket(25, Hex("00000001")), "00000009 c9 00000019 00000001");
    }

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases())
        {
            data.Add(c.Name);
        }

        return data;
    }

    private static (SftpPacket Packet, byte[] Bytes) Case(string name)
    {
        var c = Cases().Single(x => x.Name == name);
        return (c.Packet, Hex(c.Hex));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Packet_encodes_to_golden_bytes(string name)
    {
        var (packet, bytes) = Case(name);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(packet.ToFrame().Span));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Golden_bytes_decode_and_reencode_identically(string name)
    {
        var (packet, bytes) = Case(name);
        var sequence = new ReadOnlySequence<byte>(bytes);
        Assert.True(SftpFrameReader.TryReadFrame(ref sequence, SftpFrameReader.DefaultMaxPacketLength, out var payload));
        Assert.Equal(0, sequence.Length);
        var decoded = SftpPacketCodec.Decode(payload);
        Assert.IsType(packet.GetType(), decoded);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(decoded.ToFrame().Span));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Every_truncation_of_a_golden_packet_is_a_typed_error(string name)
    {
        var (_, bytes) = Case(name);
        var payload = bytes.AsSpan(4).ToArray();
        // STATUS may legally stop after the code (pre-v3 servers), and VERSION/INIT/EXTENDED end in open-ended data.
        for (var cut = 0; cut < payload.Length; cut++)
        {
            var prefix = payload.AsSpan(0, cut).ToArray();
            try
            {
                SftpPacketCodec.Decode(prefix);
            }
            catch (SftpProtocolException)
            {
            }
        }
    }

    [Fact]
    public void Random_corruption_never_throws_anything_but_protocol_exceptions()
    {
        var random = new Random(1234);
        foreach (var c in Cases())
        {
            var payload = Hex(c.Hex).AsSpan(4).ToArray();
            for (var i = 0; i < 500; i++)
            {
                var copy = (byte[])payload.Clone();
                var flips = random.Next(1, 4);
                for (var f = 0; f < flips; f++)
                {
                    copy[random.Next(copy.Length)] = (byte)random.Next(256);
                }

                try
                {
                    SftpPacketCodec.Decode(copy);
                }
                catch (SftpProtocolException)
                {
                }
            }
        }
    }

    [Fact]
    public void Open_fields_decode()
    {
        var open = Assert.IsType<OpenPacket>(SftpPacketCodec.Decode(Hex("03 00000001 00000002 2f66 0000001a 00000004 000001a4")));
        Assert.Equal(1u, open.RequestId);
        Assert.Equal("/f", open.Path);
        Assert.Equal(SftpOpenFlags.Write | SftpOpenFlags.Create | SftpOpenFlags.Truncate, open.Flags);
        Assert.Equal(0x1a4u, open.Attributes.Permissions);
        Assert.Null(open.Attributes.Size);
    }

    [Fact]
    public void Attrs_with_every_flag_decode()
    {
        var (_, bytes) = Case("ATTRS");
        var attrs = Assert.IsType<AttrsPacket>(SftpPacketCodec.Decode(bytes.AsSpan(4))).Attributes;
        Assert.Equal(1ul, attrs.Size);
        Assert.Equal(2u, attrs.UserId);
        Assert.Equal(3u, attrs.GroupId);
        Assert.Equal(0x81a4u, attrs.Permissions);
        Assert.True(attrs.IsRegularFile);
        Assert.Equal(4u, attrs.AccessTime);
        Assert.Equal(5u, attrs.ModifyTime);
        var ext = Assert.Single(attrs.Extended);
        Assert.Equal("t", ext.Type);
        Assert.Equal("d"u8.ToArray(), ext.Data.ToArray());
    }

    [Fact]
    public void Status_without_message_from_old_servers_is_accepted()
    {
        var status = Assert.IsType<StatusPacket>(SftpPacketCodec.Decode(Hex("65 00000001 00000001")));
        Assert.Equal(SftpStatusCode.Eof, status.Code);
        Assert.Equal("", status.Message);
    }

    [Fact]
    public void Limits_reply_round_trips()
    {
        var bytes = OpenSshExtensions.WriteLimits(new SftpLimits(262144, 261120, 261120, 0));
        Assert.Equal("0000000000040000 000000000003FC00 000000000003FC00 0000000000000000".Replace(" ", "", StringComparison.Ordinal), Convert.ToHexString(bytes));
        Assert.Equal(new SftpLimits(262144, 261120, 261120, 0), OpenSshExtensions.ReadLimits(bytes));
    }

    [Fact]
    public void StatVfs_reply_round_trips()
    {
        var s = new SftpStatVfs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        var bytes = OpenSshExtensions.WriteStatVfs(s);
        Assert.Equal(88, bytes.Length);
        Assert.Equal(s, OpenSshExtensions.ReadStatVfs(bytes));
    }
}
