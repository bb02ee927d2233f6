using System.Text;
using System.Text.Unicode;

namespace Onboarding.Mqtt.Packets;

/// <summary>MQTT 5.0 §1.5.4 / 3.1.1 §1.5.3: well-formed UTF-8, no surrogates, no U+0000.</summary>
internal static class MqttUtf8
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static bool IsValid(ReadOnlySpan<byte> bytes) =>
        // Utf8.IsValid rejects overlong forms, encoded surrogates (U+D800..U+DFFF) and values above U+10FFFF.
        Utf8.IsValid(bytes) && !bytes.Contains((byte)0);

    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (!IsValid(bytes))
            throw MqttReader.Malformed("string is not well-formed UTF-8 or contains U+0000");
        return Strict.GetString(bytes);
    }

    /// <summary>Encodes for sending; throws ArgumentException for lone surrogates, U+0000 or over-long strings.</summary>
    public static byte[] Encode(string value, string what)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
            throw new ArgumentException($"{what} must not contain U+0000 (MQTT 5.0 §1.5.4)", what);
        byte[] bytes;
        try
        {
            bytes = Strict.GetBytes(value);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"{what} contains an unpaired surrogate (MQTT 5.0 §1.5.4)", what, e);
        }
        if (bytes.Length > ushort.MaxValue)
            throw new ArgumentException($"{what} is longer than 65535 UTF-8 bytes", what);
        return bytes;
    }
}
