using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt;

/// <summary>One received QoS 1/2 PUBLISH waiting for the application's ack.</summary>
internal sealed class InboundAck(ushort packetId, MqttQualityOfService qos)
{
    public ushort PacketId { get; } = packetId;
    public MqttQualityOfService QoS { get; } = qos;
    public bool Acked { get; set; }
}

/// <summary>
/// Keeps PUBACK/PUBREC in arrival order although the application acks in any order: an ack is released
/// only when every earlier message is acked too. MQTT 5.0 §4.6 requires PUBACKs in the order the PUBLISH
/// packets arrived, and an ingester that acks after its database commit must never ack a message whose
/// predecessor is not yet committed. Not thread-safe; the client serialises access.
/// </summary>
internal sealed class InboundAckQueue
{
    private readonly Queue<InboundAck> _order = new();
    private readonly Dictionary<ushort, InboundAck> _byPacketId = [];

    /// <summary>Messages received and not yet released (they count against our Receive Maximum).</summary>
    public int Count => _order.Count;

    public InboundAck Add(ushort packetId, MqttQualityOfService qos)
    {
        var entry = new InboundAck(packetId, qos);
        _order.Enqueue(entry);
        _byPacketId[packetId] = entry;
        return entry;
    }

    public bool IsPending(ushort packetId) => _byPacketId.ContainsKey(packetId);

    /// <summary>Marks <paramref name="entry"/> acked and appends to <paramref name="ready"/> every ack now releasable, in order.</summary>
    public void Ack(InboundAck entry, List<InboundAck> ready)
    {
        if (entry.Acked)
            return;
        entry.Acked = true;
        while (_order.TryPeek(out var head) && head.Acked)
        {
            _order.Dequeue();
            if (_byPacketId.TryGetValue(head.PacketId, out var current) && ReferenceEquals(current, head))
                _byPacketId.Remove(head.PacketId);
            ready.Add(head);
        }
    }
}
