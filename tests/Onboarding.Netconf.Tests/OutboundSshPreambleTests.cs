using System.Diagnostics;
using System.Text;
using Onboarding.Netconf.OutboundSsh;

namespace Onboarding.Netconf.Tests;

/// <summary>The Juniper outbound-ssh DEVICE-CONN-INFO preamble: parsing, leniency, bounds, and the HMAC-SHA1 check.</summary>
public class OutboundSshPreambleTests
{
    private const string HostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDm1fQbGX7l4Qbn8G7p2cyVbgqX0XoFhHf0dH2Zq8dQx";
    private static readonly byte[] Secret = "per-device-secret"u8.ToArray();
    private static readonly byte[] SshStart = "SSH-2.0-OpenSSH_9.2\r\n\0\0\x14binary"u8.ToArray();

    private static byte[] FiveLines(string hmac) => Encoding.ASCII.GetBytes(
        $"MSG-ID: DEVICE-CONN-INFO\r\nMSG-VER: V1\r\nDEVICE-ID: rtr-42\r\nHOST-KEY: {HostKey}\r\nHMAC: {hmac}\r\n");

    private static (OutboundSshPreamble Preamble, byte[] Remainder) Read(byte[] bytes, OutboundSshPreambleLimits? limits = null)
    {
        var reader = new OutboundSshPreambleReader(limits);
        Assert.Equal(PreambleStatus.Done, reader.Feed(bytes));
        return (reader.Preamble!, reader.Remainder);
    }

    [Fact]
    public void Three_line_form_ends_where_ssh_starts_and_hands_ssh_its_bytes()
    {
        var bytes = "MSG-ID: DEVICE-CONN-INFO\r\nMSG-VER: V1\r\nDEVICE-ID: rtr-42\r\n"u8.ToArray().Concat(SshStart).ToArray();
        var (preamble, rest) = Read(bytes);
        Assert.Equal("rtr-42", preamble.DeviceId);
        Assert.Equal("V1", preamble.MessageVersion);
        Assert.Null(preamble.HostKey);
        Assert.False(preamble.VerifyHmac(Secret));
        Assert.Equal(SshStart, rest); // NULs after the preamble are SSH's and stay
    }

    [Fact]
    public void Five_line_form_ends_after_hmac_and_verifies()
    {
        var hmac = Convert.ToHexStringLower(OutboundSshPreamble.ComputeHmac(HostKey, Secret));
        var (preamble, rest) = Read(FiveLines(hmac).Concat(SshStart).ToArray());
        Assert.Equal(HostKey, preamble.HostKey);
        Assert.True(preamble.VerifyHmac(Secret));
        Assert.False(preamble.VerifyHmac("another-secret"u8));
        Assert.Equal(SshStart, rest);
        Assert.Equal(51, preamble.HostKeyBlob()!.Length); // string "ssh-ed25519" (4+11) + string key (4+32)
    }

    [Fact]
    public void Uppercase_hex_verifies_and_a_tampered_host_key_does_not()
    {
        var hmac = Convert.ToHexString(OutboundSshPreamble.ComputeHmac(HostKey, Secret));
        Assert.True(Read(FiveLines(hmac)).Preamble.VerifyHmac(Secret));
        var tampered = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(FiveLines(hmac)).Replace("AAAAC3", "AAAAC4", StringComparison.Ordinal));
        Assert.False(Read(tampered).Preamble.VerifyHmac(Secret));
    }

    [Fact]
    public void Lenient_about_bare_lf_nuls_case_blank_and_unknown_lines()
    {
        var hmac = Convert.ToHexStringLower(OutboundSshPreamble.ComputeHmac(HostKey, Secret));
        var text = $"\0\0msg-id: device-conn-info\n\nX-VENDOR: whatever\nMSG-VER:V1\0\nDEVICE-ID:   rtr-42  \r\nHOST-KEY: {HostKey}\0\0\0\nHMAC: {hmac}\n";
        var (preamble, rest) = Read(Encoding.ASCII.GetBytes(text));
        Assert.Equal("rtr-42", preamble.DeviceId);
        Assert.True(preamble.VerifyHmac(Secret));
        Assert.Empty(rest);
    }

    [Fact]
    public void Every_split_point_and_byte_by_byte_give_the_same_result()
    {
        var hmac = Convert.ToHexStringLower(OutboundSshPreamble.ComputeHmac(HostKey, Secret));
        var bytes = FiveLines(hmac).Concat(SshStart).ToArray();
        var three = "MSG-ID: DEVICE-CONN-INFO\r\nMSG-VER: V1\r\nDEVICE-ID: d\r\n"u8.ToArray().Concat(SshStart).ToArray();
        foreach (var input in new[] { bytes, three })
        {
            var whole = Read(input);
            for (var split = 0; split <= input.Length; split++)
            {
                var reader = new OutboundSshPreambleReader();
                var status = reader.Feed(input.AsSpan(0, split));
                if (status == PreambleStatus.NeedMore)
                    status = reader.Feed(input.AsSpan(split));
                else
                    Assert.Equal(whole.Remainder, reader.Remainder.Concat(input[split..]).ToArray());
                Assert.Equal(PreambleStatus.Done, status);
                Assert.Equal(whole.Preamble, reader.Preamble);
            }
            var slow = new OutboundSshPreambleReader();
            var i = 0;
            while (slow.Feed(input.AsSpan(i++, 1)) == PreambleStatus.NeedMore)
            {
            }
            Assert.Equal(whole.Preamble, slow.Preamble);
            Assert.Equal(whole.Remainder, slow.Remainder.Concat(input[i..]).ToArray());
        }
    }

    [Theory]
    [InlineData("MSG-ID: SOMETHING-ELSE\r\n", NetconfError.MalformedPreamble)]
    [InlineData("DEVICE-ID: d\r\n", NetconfError.MalformedPreamble)]
    [InlineData("MSG-ID: DEVICE-CONN-INFO\r\nno colon here\r\n", NetconfError.MalformedPreamble)]
    [InlineData("MSG-ID: DEVICE-CONN-INFO\r\nDEVICE-ID: a\r\nDEVICE-ID: b\r\n", NetconfError.MalformedPreamble)]
    [InlineData("MSG-ID: DEVICE-CONN-INFO\r\nDEVICE-ID: \r\n", NetconfError.MalformedPreamble)]
    [InlineData("MSG-ID: DEVICE-CONN-INFO\r\nDEVICE-ID: a\r\nHMAC: zz\r\n", NetconfError.MalformedPreamble)]
    [InlineData("MSG-ID: DEVICE-CONN-INFO\r\nDEVICE-ID: a\r\nHOST-KEY: ssh-rsa AAAA\r\nSSH-2.0-x\r\n", NetconfError.MalformedPreamble)]
    [InlineData("MSG-ID: DEVICE-CONN-INFO\r\nMSG-VER: V1\r\nSSH-2.0-x\r\n", NetconfError.MalformedPreamble)]
    [InlineData("MSG-ID: DEVICE-CONN-INFO\r\nDEVICE-ID: caf\u00e9\r\n", NetconfError.MalformedPreamble)]
    [InlineData("MSG-ID: DEVICE-CONN-INFO\r\nDEVICE-ID: a\u0001b\r\n", NetconfError.MalformedPreamble)]
    public void Malformed_preambles_are_refused_with_a_typed_error(string text, NetconfError error)
    {
        var e = Assert.Throws<NetconfException>(() => new OutboundSshPreambleReader().Feed(Encoding.Latin1.GetBytes(text)));
        Assert.Equal(error, e.Error);
    }

    [Fact]
    public void Oversize_and_too_many_lines_are_refused_even_when_fed_slowly()
    {
        var limits = new OutboundSshPreambleLimits { MaxBytes = 256, MaxLines = 6 };
        var big = Encoding.ASCII.GetBytes("MSG-ID: DEVICE-CONN-INFO\r\nHOST-KEY: " + new string('A', 300));
        var reader = new OutboundSshPreambleReader(limits);
        var e = Assert.Throws<NetconfException>(() =>
        {
            foreach (var b in big)
                reader.Feed([b]);
        });
        Assert.Equal(NetconfError.TooLarge, e.Error);
        var lines = Encoding.ASCII.GetBytes("MSG-ID: DEVICE-CONN-INFO\r\n" + string.Concat(Enumerable.Repeat("X: y\r\n", 10)));
        Assert.Equal(NetconfError.MalformedPreamble, Assert.Throws<NetconfException>(() => new OutboundSshPreambleReader(limits).Feed(lines)).Error);
        // NULs do not count towards the size (they are dropped), but do not let a peer stall us for free either: the
        // caller's timeout bounds that.
        Assert.Equal(PreambleStatus.NeedMore, new OutboundSshPreambleReader(limits).Feed(new byte[10_000]));
    }

    [Fact]
    public void Complete_ends_a_three_line_preamble_at_a_line_boundary_only()
    {
        var reader = new OutboundSshPreambleReader();
        Assert.Equal(PreambleStatus.NeedMore, reader.Feed("MSG-ID: DEVICE-CONN-INFO\r\nMSG-VER: V1\r\nDEVICE-ID: d"u8));
        Assert.False(reader.Complete());
        Assert.Equal(PreambleStatus.NeedMore, reader.Feed("1\r\n"u8));
        Assert.True(reader.Complete());
        Assert.Equal("d1", reader.Preamble!.DeviceId);
        Assert.Empty(reader.Remainder);
    }

    [Theory]
    [InlineData("MSG-ID: DEVICE", PreambleDetection.Preamble)]
    [InlineData("\0\0msg-id", PreambleDetection.Preamble)]
    [InlineData("MSG", PreambleDetection.NeedMore)]
    [InlineData("", PreambleDetection.NeedMore)]
    [InlineData("SSH-2.0-OpenSSH", PreambleDetection.NotPreamble)]
    [InlineData("MSX", PreambleDetection.NotPreamble)]
    public void Detect_tells_a_preamble_from_rfc8071_ssh(string start, PreambleDetection expected) =>
        Assert.Equal(expected, OutboundSshPreambleReader.Detect(Encoding.ASCII.GetBytes(start)));

    [Fact]
    public void Writer_output_reads_back_and_matches_junos_line_format()
    {
        var written = OutboundSshPreamble.WithHostKey("rtr-42", HostKey, Secret);
        var bytes = written.Encode();
        Assert.StartsWith("MSG-ID: DEVICE-CONN-INFO\r\nMSG-VER: V1\r\nDEVICE-ID: rtr-42\r\nHOST-KEY: ssh-ed25519 ", Encoding.ASCII.GetString(bytes), StringComparison.Ordinal);
        Assert.Equal(written, Read(bytes).Preamble);
        Assert.Equal("MSG-ID: DEVICE-CONN-INFO\r\nMSG-VER: V1\r\nDEVICE-ID: x\r\n", Encoding.ASCII.GetString(new OutboundSshPreamble("x").Encode()));
    }

    [Fact]
    public void Hmac_matches_rfc2202_test_case_2()
    {
        // RFC 2202 §3 test case 2: key = "Jefe", data = "what do ya want for nothing?".
        Assert.Equal("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
            Convert.ToHexStringLower(OutboundSshPreamble.ComputeHmac("what do ya want for nothing?", "Jefe"u8)));
        var preamble = new OutboundSshPreamble("d", "V1", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        Assert.True(preamble.VerifyHmac("Jefe"u8));
        Assert.False(preamble.VerifyHmac("jefe"u8));
    }

    [Fact]
    public void Hmac_matches_openssl_dgst_hmac()
    {
        var start = new ProcessStartInfo("openssl", ["dgst", "-sha1", "-hmac", "per-device-secret"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        using var openssl = Process.Start(start)!;
        openssl.StandardInput.Write(HostKey);
        openssl.StandardInput.Close();
        var output = openssl.StandardOutput.ReadToEnd();
        openssl.WaitForExit();
        Assert.Equal(0, openssl.ExitCode);
        var expected = output.Trim()[(output.LastIndexOf("= ", StringComparison.Ordinal) + 2)..];
        Assert.Equal(40, expected.Length);
        Assert.Equal(expected, Convert.ToHexStringLower(OutboundSshPreamble.ComputeHmac(HostKey, Secret)));
        Assert.True(Read(FiveLines(expected)).Preamble.VerifyHmac(Secret));
    }

    [Fact]
    public async Task Prefixed_stream_replays_the_remainder_before_the_socket_and_writes_through()
    {
        using var inner = new MemoryStream();
        inner.Write("-inner"u8);
        inner.Position = 0;
        using var stream = new PrefixedStream("SSH-2.0"u8.ToArray(), inner);
        var buffer = new byte[4];
        var read = new List<byte>();
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
            read.AddRange(buffer.AsSpan(0, n).ToArray());
        Assert.Equal("SSH-2.0-inner", Encoding.ASCII.GetString([.. read]));
        await stream.WriteAsync("x"u8.ToArray());
        Assert.Equal("-innerx", Encoding.ASCII.GetString(inner.ToArray()));
    }
}
