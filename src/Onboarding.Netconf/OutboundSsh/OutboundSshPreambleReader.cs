using System.Text;

namespace Onboarding.Netconf.OutboundSsh;

/// <summary>Where <see cref="OutboundSshPreambleReader"/> stands after the bytes fed so far.</summary>
public enum PreambleStatus
{
    /// <summary>Not finished; feed more bytes (the caller bounds the time).</summary>
    NeedMore,
    /// <summary><see cref="OutboundSshPreambleReader.Preamble"/> is set; <see cref="OutboundSshPreambleReader.Remainder"/> belongs to SSH.</summary>
    Done,
}

/// <summary>Whether a connection starts with a DEVICE-CONN-INFO preamble or directly with SSH (RFC 8071).</summary>
public enum PreambleDetection
{
    NeedMore,
    Preamble,
    NotPreamble,
}

/// <summary>Bounds on what an unauthenticated peer may make us buffer.</summary>
public sealed record OutboundSshPreambleLimits
{
    /// <summary>An RSA-4096 OpenSSH public key is ~730 characters; 8 KiB leaves room and no more.</summary>
    public int MaxBytes { get; init; } = 8 * 1024;

    /// <summary>Known lines, blank lines and unknown lines together.</summary>
    public int MaxLines { get; init; } = 16;

    public int MaxDeviceIdLength { get; init; } = 255;
}

/// <summary>
/// An incremental, lenient reader of the outbound-ssh preamble: lines end in "\r\n" or "\n", NUL bytes are dropped (Junos
/// pads with them; Juniper/YAPT strips them too), blank and unknown lines are skipped within <see cref="OutboundSshPreambleLimits.MaxLines"/>,
/// labels are case-insensitive. The first non-blank line must be "MSG-ID: DEVICE-CONN-INFO". The preamble ends after
/// the HMAC line (5-line form) or where the SSH identification string "SSH-" starts (3-line form: a server sends it
/// first, RFC 4253 §4.2); a caller that waited long enough for a 3-line device that sends nothing more may call
/// <see cref="Complete"/>. Malformed input throws <see cref="NetconfException"/> (MalformedPreamble or TooLarge).
/// </summary>
public sealed class OutboundSshPreambleReader(OutboundSshPreambleLimits? limits = null)
{
    private static readonly byte[] SshPrefix = "SSH-"u8.ToArray();
    private readonly OutboundSshPreambleLimits _limits = limits ?? new OutboundSshPreambleLimits();
    private readonly List<byte> _buffer = [];
    private readonly Dictionary<string, string> _fields = new(StringComparer.Ordinal);
    private int _lineStart;
    private int _remainderStart;
    private int _lines;
    private bool _sawMessageId;

    public OutboundSshPreamble? Preamble { get; private set; }

    /// <summary>Bytes that followed the preamble: the start of the device's SSH stream.</summary>
    public byte[] Remainder { get; private set; } = [];

    /// <summary>Looks at the first bytes of a connection (leading NULs and blank lines skipped).</summary>
    public static PreambleDetection Detect(ReadOnlySpan<byte> firstBytes)
    {
        var prefix = "MSG-ID"u8;
        var i = 0;
        while (i < firstBytes.Length && firstBytes[i] is 0 or (byte)'\r' or (byte)'\n')
            i++;
        var rest = firstBytes[i..];
        var n = Math.Min(rest.Length, prefix.Length);
        for (var k = 0; k < n; k++)
        {
            if (char.ToUpperInvariant((char)rest[k]) != prefix[k])
                return PreambleDetection.NotPreamble;
        }
        return n == prefix.Length ? PreambleDetection.Preamble : PreambleDetection.NeedMore;
    }

    public PreambleStatus Feed(ReadOnlySpan<byte> data)
    {
        if (Preamble is not null)
            throw new InvalidOperationException("the preamble is already complete");
        foreach (var b in data)
        {
            if (Preamble is not null)
            {
                // Past the end: the rest is SSH's, untouched (NULs included).
                _buffer.Add(b);
                continue;
            }
            if (b == 0)
                continue;
            if (_buffer.Count >= _limits.MaxBytes)
                throw new NetconfException(NetconfError.TooLarge, $"outbound-ssh preamble longer than {_limits.MaxBytes} bytes");
            _buffer.Add(b);
            if (_buffer.Count - _lineStart == SshPrefix.Length && StartsSsh())
            {
                Finish(_lineStart);
                continue;
            }
            if (b == (byte)'\n')
                EndLine();
        }
        if (Preamble is null)
            return PreambleStatus.NeedMore;
        Remainder = [.. _buffer.Skip(_remainderStart)];
        return PreambleStatus.Done;
    }

    /// <summary>
    /// Ends the preamble at the last complete line when the device has sent at least MSG-ID and DEVICE-ID and nothing
    /// after them (a 3-line device waiting for the client's SSH version). Returns false when it cannot end there.
    /// </summary>
    public bool Complete()
    {
        if (Preamble is not null)
            return true;
        if (_lineStart != _buffer.Count || !_fields.ContainsKey("DEVICE-ID"))
            return false;
        Finish(_lineStart);
        Remainder = [];
        return true;
    }

    private bool StartsSsh()
    {
        for (var k = 0; k < SshPrefix.Length; k++)
        {
            if (_buffer[_lineStart + k] != SshPrefix[k])
                return false;
        }
        return true;
    }

    private void EndLine()
    {
        var length = _buffer.Count - _lineStart;
        var line = Decode(_buffer.GetRange(_lineStart, length)).TrimEnd('\n').TrimEnd('\r');
        _lineStart = _buffer.Count;
        if (++_lines > _limits.MaxLines)
            throw Malformed($"more than {_limits.MaxLines} lines");
        if (line.Trim().Length == 0)
            return;
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
            throw Malformed("a line without 'LABEL:'");
        var label = line[..colon].Trim().ToUpperInvariant();
        var value = line[(colon + 1)..].Trim();
        if (!_sawMessageId)
        {
            if (label != "MSG-ID" || !value.Equals(OutboundSshPreamble.MessageId, StringComparison.OrdinalIgnoreCase))
                throw Malformed("the first line is not 'MSG-ID: DEVICE-CONN-INFO'");
            _sawMessageId = true;
            return;
        }
        if (label is not ("MSG-VER" or "DEVICE-ID" or "HOST-KEY" or "HMAC"))
            return; // unknown lines are ignored (bounded by MaxLines)
        if (!_fields.TryAdd(label, value))
            throw Malformed($"{label} given twice");
        Validate(label, value);
        if (_fields.ContainsKey("HMAC") && _fields.ContainsKey("HOST-KEY"))
            Finish(_buffer.Count);
    }

    private void Validate(string label, string value)
    {
        switch (label)
        {
            case "DEVICE-ID" when value.Length == 0 || value.Length > _limits.MaxDeviceIdLength:
                throw Malformed($"DEVICE-ID must be 1..{_limits.MaxDeviceIdLength} characters");
            case "HOST-KEY" when value.Length == 0:
                throw Malformed("empty HOST-KEY");
            case "HMAC" when value.Length != OutboundSshPreamble.HmacLength * 2 || !value.All(Uri.IsHexDigit):
                throw Malformed("HMAC is not 40 hex digits (HMAC-SHA1)");
        }
    }

    private void Finish(int end)
    {
        if (!_sawMessageId)
            throw Malformed("SSH started before 'MSG-ID: DEVICE-CONN-INFO'");
        if (!_fields.TryGetValue("DEVICE-ID", out var deviceId))
            throw Malformed("no DEVICE-ID line");
        _fields.TryGetValue("HOST-KEY", out var hostKey);
        _fields.TryGetValue("HMAC", out var hmac);
        if ((hostKey is null) != (hmac is null))
            throw Malformed("HOST-KEY and HMAC must come together");
        _fields.TryGetValue("MSG-VER", out var version);
        Preamble = new OutboundSshPreamble(deviceId, version, hostKey, hmac);
        _remainderStart = end;
    }

    private static string Decode(List<byte> bytes)
    {
        foreach (var b in bytes)
        {
            // Printable ASCII, tab, CR, LF: anything else is not a preamble line.
            if (b is > 0x7e || (b < 0x20 && b is not ((byte)'\t' or (byte)'\r' or (byte)'\n')))
                throw Malformed($"byte 0x{b:x2} in a preamble line");
        }
        return Encoding.ASCII.GetString([.. bytes]);
    }

    private static NetconfException Malformed(string why) => new(NetconfError.MalformedPreamble, $"outbound-ssh preamble: {why}");
}
