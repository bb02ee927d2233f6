namespace Onboarding.Ssh.Tests;

public class DisconnectReasonTests
{
    [Fact]
    public void Protocol_error_has_rfc_4253_code() => Assert.Equal(2u, (uint)SshDisconnectReason.ProtocolError);
}
