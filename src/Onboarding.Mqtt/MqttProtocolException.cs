namespace Onboarding.Mqtt;

/// <summary>A malformed or disallowed MQTT packet; carries the MQTT 5 reason code to report.</summary>
public sealed class MqttProtocolException(byte reasonCode, string message) : Exception(message)
{
    /// <summary>MQTT 5 reason code (0x81 Malformed Packet, 0x82 Protocol Error, ...).</summary>
    public byte ReasonCode { get; } = reasonCode;
}
