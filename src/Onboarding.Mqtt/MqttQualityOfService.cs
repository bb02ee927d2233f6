namespace Onboarding.Mqtt;

/// <summary>Delivery guarantee of an application message (MQTT 5.0 §4.3).</summary>
public enum MqttQualityOfService : byte
{
    /// <summary>QoS 0: fire and forget.</summary>
    AtMostOnce = 0,

    /// <summary>QoS 1: PUBLISH / PUBACK.</summary>
    AtLeastOnce = 1,

    /// <summary>QoS 2: PUBLISH / PUBREC / PUBREL / PUBCOMP.</summary>
    ExactlyOnce = 2,
}
