namespace Onboarding.Mqtt;

/// <summary>The broker refused a PUBLISH, SUBSCRIBE or UNSUBSCRIBE with a failure reason code (≥ 0x80).</summary>
public sealed class MqttRequestException(byte reasonCode, string message) : Exception(message)
{
    public byte ReasonCode { get; } = reasonCode;
}
