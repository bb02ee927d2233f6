using System.Buffers.Binary;
using Onboarding.Ssh.Auth;
using Onboarding.Ssh.Connection;
using Onboarding.Ssh.KeyExchange;
using Onboarding.Ssh.Keys;
using Onboarding.Ssh.Transport;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Tests;

/// <summary>
/// 100,000 random and mutated messages, with a fixed seed, into every parser a server runs on peer input.
/// Each must either parse or throw <see cref="SshProtocolException"/>, and no input may make a parser allocate
/// more than a small multiple of its own size: a hostile length field must be checked, not trusted.
/// </summary>
public class ParserFuzzTests
{
    private const int Iterations = 100_000;
    private const int Seed = 8572;

    private delegate void Parser(byte[] input);

    private static readonly (string Name, Parser Parse, byte[][] Seeds)[] Parsers =
    [
        ("KEXINIT", p => { var r = new SshReader(p); KexInitMessage.Read(ref r); }, [KexInit()]),
        ("KEX_ECDH_INIT", p => { var r = new SshReader(p); KexEcdhInitMessage.Read(ref r, mpint: false); }, [Message(30, w => w.WriteString(new byte[32]))]),
        ("SERVICE_REQUEST", p => { var r = new SshReader(p); ServiceRequestMessage.Read(ref r); }, [Message(5, w => w.WriteString("ssh-userauth"))]),
        ("USERAUTH_REQUEST", p => { var r = new SshReader(p); UserAuthRequestMessage.Read(ref r); }, [PasswordRequest(), PublicKeyRequest(), Message(50, w =>
            {
                w.WriteString("user");
                w.WriteString("ssh-connection");
                w.WriteString("none");
            })]),
        ("CHANNEL_OPEN", p => { var r = new SshReader(p); ChannelOpenMessage.Read(ref r); }, [Message(90, w =>
            {
                w.WriteString("session");
                w.WriteUInt32(0);
                w.WriteUInt32(2 * 1024 * 1024);
                w.WriteUInt32(32768);
            })]),
        ("CHANNEL_REQUEST", p => { var r = new SshReader(p); ChannelRequestMessage.Read(ref r); }, [ChannelRequest("exec", "show version"), ChannelRequest("subsystem", "sftp"),
            Message(98, w =>
            {
                w.WriteUInt32(0);
                w.WriteString("exit-status");
                w.WriteBoolean(false);
                w.WriteUInt32(3);
            })]),
        ("GLOBAL_REQUEST", p => { var r = new SshReader(p); GlobalRequestMessage.Read(ref r); }, [Message(80, w =>
            {
                w.WriteString("keepalive@openssh.com");
                w.WriteBoolean(true);
            })]),
        ("CHANNEL_WINDOW_ADJUST", p => { var r = new SshReader(p); ChannelWindowAdjustMessage.Read(ref r); }, [Message(93, w =>
            {
                w.WriteUInt32(0);
                w.WriteUInt32(65536);
            })]),
        ("CHANNEL_DATA", p => ChannelDataMessage.Read(p), [Message(94, w =>
            {
                w.WriteUInt32(0);
                w.WriteString(new byte[100]);
            }), Message(95, w =>
            {
                w.WriteUInt32(0);
                w.WriteUInt32(1);
                w.WriteString("oops");
            })]),
        ("CHANNEL_EOF/CLOSE", p => { var r = new SshReader(p); ChannelSignalMessage.Read(ref r); }, [Message(96, w => w.WriteUInt32(0)), Message(97, w => w.WriteUInt32(7))]),
        ("DISCONNECT", p => { var r = new SshReader(p); DisconnectMessage.Read(ref r); }, [Message(1, w =>
            {
                w.WriteUInt32(11);
                w.WriteString("bye");
                w.WriteString("");
            })]),
        ("EXT_INFO", p => { var r = new SshReader(p); ExtInfoMessage.Read(ref r); }, [Message(7, w =>
            {
                w.WriteUInt32(1);
                w.WriteString("server-sig-algs");
                w.WriteString("ssh-ed25519,rsa-sha2-512");
            })]),
        ("public key blob", p => SshPublicKey.Parse(p), [Ed25519Blob(), RsaBlob()]),
    ];

    [Fact]
    public void Hundred_thousand_mutated_messages_give_only_typed_errors_and_bounded_allocations()
    {
        var random = new Random(Seed);
        var parsed = 0;
        var refused = 0;
        long worstAllocation = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var (name, parse, seeds) = Parsers[i % Parsers.Length];
            var input = Mutate(seeds[random.Next(seeds.Length)], random);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                parse(input);
                parsed++;
            }
            catch (SshProtocolException)
            {
                refused++;
            }
            catch (Exception ex)
            {
                Assert.Fail($"{name} input #{i} (seed {Seed}) threw {ex.GetType().Name}: {ex.Message}\n{Convert.ToHexString(input)}");
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            worstAllocation = Math.Max(worstAllocation, allocated - (8L * input.Length));
            Assert.True(allocated <= (8L * input.Length) + (64 * 1024),
                $"{name} input #{i} of {input.Length} bytes allocated {allocated} bytes\n{Convert.ToHexString(input)}");
        }

        // Both outcomes must really occur, or the mutations are not reaching the parsers.
        Assert.True(parsed > 1000, $"only {parsed} inputs parsed");
        Assert.True(refused > 10_000, $"only {refused} inputs refused");
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = seed.ToList();
        switch (random.Next(8))
        {
            case 0:
                // Unchanged: the seeds themselves must parse.
                break;
            case 1:
                for (var n = random.Next(1, 8); n > 0 && bytes.Count > 1; n--)
                    bytes[random.Next(1, bytes.Count)] ^= (byte)(1 << random.Next(8));
                break;
            case 2:
                if (bytes.Count > 1)
                {
                    var keep = random.Next(1, bytes.Count);
                    bytes.RemoveRange(keep, bytes.Count - keep);
                }

                break;
            case 3:
                // A length field (any aligned uint32) claims far more than there is.
                if (bytes.Count > 5)
                {
                    var at = random.Next(1, bytes.Count - 4);
                    var claim = random.Next(3) switch { 0 => 0xFFFFFFFFu, 1 => 0x7FFFFFFFu, _ => (uint)random.Next(bytes.Count, 1 << 24) };
                    var span = new byte[4];
                    BinaryPrimitives.WriteUInt32BigEndian(span, claim);
                    for (var k = 0; k < 4; k++)
                        bytes[at + k] = span[k];
                }

                break;
            case 4:
                bytes.InsertRange(random.Next(1, bytes.Count + 1), RandomBytes(random, random.Next(1, 64)));
                break;
            case 5:
                bytes.AddRange(RandomBytes(random, random.Next(1, 32)));
                break;
            case 6:
                for (var n = random.Next(1, 4); n > 0 && bytes.Count > 1; n--)
                    bytes[random.Next(1, bytes.Count)] = (byte)random.Next(256);
                break;
            default:
                var first = bytes.Count > 0 ? bytes[0] : (byte)0;
                bytes = [first, .. RandomBytes(random, random.Next(0, 200))];
                break;
        }

        return [.. bytes];
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Message(byte number, Action<SshWriter> body)
    {
        using var w = new SshWriter();
        w.WriteByte(number);
        body(w);
        return w.ToArray();
    }

    private static byte[] KexInit() => Message(20, w =>
    {
        w.WriteRaw(new byte[16]);
        w.WriteNameList(["curve25519-sha256", "kex-strict-c-v00@openssh.com", "ext-info-c"]);
        w.WriteNameList(["ssh-ed25519", "rsa-sha2-512"]);
        for (var i = 0; i < 2; i++)
            w.WriteNameList(["aes128-gcm@openssh.com", "aes256-ctr"]);
        for (var i = 0; i < 2; i++)
            w.WriteNameList(["hmac-sha2-256-etm@openssh.com"]);
        for (var i = 0; i < 2; i++)
            w.WriteNameList(["none"]);
        w.WriteNameList([]);
        w.WriteNameList([]);
        w.WriteBoolean(false);
        w.WriteUInt32(0);
    });

    private static byte[] PasswordRequest() => Message(50, w =>
    {
        w.WriteString("m-acme-12345678");
        w.WriteString("ssh-connection");
        w.WriteString("password");
        w.WriteBoolean(false);
        w.WriteString("correct horse battery staple");
    });

    private static byte[] PublicKeyRequest() => Message(50, w =>
    {
        w.WriteString("device");
        w.WriteString("ssh-connection");
        w.WriteString("publickey");
        w.WriteBoolean(true);
        w.WriteString("ssh-ed25519");
        w.WriteString(Ed25519Blob());
        w.WriteString(new byte[83]);
    });

    private static byte[] ChannelRequest(string type, string argument) => Message(98, w =>
    {
        w.WriteUInt32(0);
        w.WriteString(type);
        w.WriteBoolean(true);
        w.WriteString(argument);
    });

    private static byte[] Ed25519Blob()
    {
        using var key = SshHostKey.GenerateEd25519();
        return key.PublicKey.Blob;
    }

    private static byte[] RsaBlob()
    {
        using var key = SshHostKey.GenerateRsa(3072);
        return key.PublicKey.Blob;
    }
}
