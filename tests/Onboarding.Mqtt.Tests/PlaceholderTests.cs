namespace Onboarding.Mqtt.Tests;

public class ProtocolExceptionTests
{
    [Fact]
    public void Reason_code_is_kept() => Assert.Equal(0x81, new MqttProtocolException(0x81, "malformed").ReasonCode);
}
