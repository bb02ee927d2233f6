namespace Onboarding.Mqtt.Packets;

/// <summary>A control packet: fixed header (MQTT 5.0 §2.1) plus a type-specific body.</summary>
internal abstract class MqttPacket
{
    public abstract PacketType Type { get; }

    /// <summary>Low nibble of the fixed header's first byte (MQTT 5.0 §2.1.3).</summary>
    public virtual byte Flags => 0;

    protected abstract void WriteBody(MqttWriter writer, MqttProtocolVersion version);

    public void Write(MqttWriter writer, MqttProtocolVersion version)
    {
        WriteBody(writer, version);
        writer.Complete(Type, Flags);
    }

    public byte[] Encode(MqttProtocolVersion version)
    {
        using var writer = new MqttWriter();
        Write(writer, version);
        return writer.ToArray();
    }

    public override string ToString() => Type.ToString();
}
