namespace Onboarding.Mqtt.Tests.Client;

public class ReconnectDelayTests
{
    private static readonly TimeSpan Min = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(0, 100)]
    [InlineData(1, 200)]
    [InlineData(3, 800)]
    [InlineData(7, 10_000)] // 12.8 s capped at 10 s
    [InlineData(1000, 10_000)]
    public void Delay_doubles_up_to_the_maximum(int attempt, double upperMs)
    {
        Assert.Equal(upperMs, MqttConnectionSupervisor.ReconnectDelay(attempt, Min, Max, 0.999999).TotalMilliseconds, 0.1);
        Assert.Equal(upperMs / 2, MqttConnectionSupervisor.ReconnectDelay(attempt, Min, Max, 0).TotalMilliseconds, 0.1);
    }
}
