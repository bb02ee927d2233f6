namespace Onboarding.Mqtt;

/// <summary>The broker refused the connection in CONNACK (MQTT 5.0 §3.2.2.2; 3.1.1 return codes are mapped).</summary>
public sealed class MqttConnectException(byte reasonCode, string message) : Exception(message)
{
    /// <summary>MQTT 5.0 reason code, e.g. 0x86 Bad User Name or Password, 0x87 Not Authorized.</summary>
    public byte ReasonCode { get; } = reasonCode;
}
