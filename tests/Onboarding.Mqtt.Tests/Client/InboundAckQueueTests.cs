namespace Onboarding.Mqtt.Tests.Client;

public class InboundAckQueueTests
{
    [Fact]
    public void Later_acks_wait_for_earlier_ones()
    {
        var queue = new InboundAckQueue();
        var a = queue.Add(1, MqttQualityOfService.AtLeastOnce);
        var b = queue.Add(2, MqttQualityOfService.ExactlyOnce);
        var c = queue.Add(3, MqttQualityOfService.AtLeastOnce);
        var ready = new List<InboundAck>();

        queue.Ack(c, ready);
        Assert.Empty(ready);
        queue.Ack(b, ready);
        Assert.Empty(ready);
        queue.Ack(a, ready);
        Assert.Equal([1, 2, 3], ready.Select(r => (int)r.PacketId));
        Assert.Equal(0, queue.Count);
        Assert.False(queue.IsPending(2));
    }

    [Fact]
    public void Double_ack_is_ignored()
    {
        var queue = new InboundAckQueue();
        var a = queue.Add(1, MqttQualityOfService.AtLeastOnce);
        var ready = new List<InboundAck>();
        queue.Ack(a, ready);
        queue.Ack(a, ready);
        Assert.Single(ready);
    }
}
