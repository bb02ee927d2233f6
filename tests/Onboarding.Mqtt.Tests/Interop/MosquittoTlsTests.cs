using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Onboarding.Mqtt.Tests.Interop;

[Trait("Category", "Interop")]
public class MosquittoTlsTests(MosquittoFixture broker) : IClassFixture<MosquittoFixture>
{
    private MqttClient Device(X509Certificate2? certificate, MqttProtocolVersion version = MqttProtocolVersion.V500, string? clientId = null,
        bool dedicatedReceiveThread = false) => new(new MqttClientOptions
    {
        DedicatedReceiveThread = dedicatedReceiveThread,
        Host = "127.0.0.1",
        Port = broker.TlsPort,
        ClientId = clientId ?? $"dev-{Guid.NewGuid():N}",
        ProtocolVersion = version,
        AutoReconnect = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        Tls = new MqttTlsOptions
        {
            TargetHost = "localhost",
            ClientCertificate = certificate,
            TrustedCertificateAuthorities = [broker.Pki.Ca],
        },
    });

    [Theory]
    [InlineData(MqttProtocolVersion.V311, false)]
    [InlineData(MqttProtocolVersion.V500, false)]
    [InlineData(MqttProtocolVersion.V500, true)] // blocking reads through SslStream on the client's own thread
    public async Task Device_with_client_certificate_publishes_and_receives_on_its_own_topics(MqttProtocolVersion version, bool dedicatedReceiveThread)
    {
        var serial = $"SN{Guid.NewGuid():N}"[..12];
        using var certificate = broker.Pki.IssueDevice(serial);
        await using var device = Device(certificate, version, dedicatedReceiveThread: dedicatedReceiveThread);
        await device.ConnectAsync();
        var topic = $"devices/{serial}/telemetry";
        await device.SubscribeAsync(topic, MqttQualityOfService.ExactlyOnce);
        await device.PublishAsync(topic, "21.5"u8.ToArray(), MqttQualityOfService.ExactlyOnce);
        var message = await device.Messages.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("21.5", Encoding.UTF8.GetString(message.Payload.Span));
        await device.AckAsync(message);
        // Connect, TLS handshake and writes were blocking calls, so no socket-engine wake-ups (MqttClientOptions).
        Assert.Equal(!dedicatedReceiveThread, Client.EpollSet.Registered().Contains(device.CurrentSocket!.Handle));
    }

    [Fact]
    public async Task Device_does_not_receive_another_devices_messages()
    {
        var a = $"SNA{Guid.NewGuid():N}"[..12];
        var b = $"SNB{Guid.NewGuid():N}"[..12];
        using var certA = broker.Pki.IssueDevice(a);
        using var certB = broker.Pki.IssueDevice(b);
        await using var deviceA = Device(certA);
        await using var deviceB = Device(certB);
        await deviceA.ConnectAsync();
        await deviceB.ConnectAsync();
        // Pattern ACL devices/%u/#, keyed on the certificate CN: A may ask, but is never given B's messages.
        await deviceA.SubscribeAsync("devices/+/telemetry");
        await deviceB.SubscribeAsync($"devices/{b}/telemetry");
        await deviceB.PublishAsync($"devices/{b}/telemetry", "secret"u8.ToArray());

        var own = await deviceB.Messages.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal($"devices/{b}/telemetry", own.Topic);
        await Task.Delay(300);
        Assert.False(deviceA.Messages.TryRead(out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // blocking TLS handshake
    public async Task Connection_without_client_certificate_is_refused(bool dedicatedReceiveThread)
    {
        await using var device = Device(null, dedicatedReceiveThread: dedicatedReceiveThread);
        await Assert.ThrowsAnyAsync<Exception>(() => device.ConnectAsync());
        Assert.False(device.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // blocking TLS handshake
    public async Task Broker_certificate_from_an_untrusted_ca_is_refused(bool dedicatedReceiveThread)
    {
        using var otherPki = new TestPki();
        using var certificate = broker.Pki.IssueDevice("SN-C");
        await using var device = new MqttClient(new MqttClientOptions
        {
            DedicatedReceiveThread = dedicatedReceiveThread,
            Host = "127.0.0.1",
            Port = broker.TlsPort,
            ClientId = "untrusting",
            AutoReconnect = false,
            Tls = new MqttTlsOptions { TargetHost = "localhost", ClientCertificate = certificate, TrustedCertificateAuthorities = [otherPki.Ca] },
        });
        await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(() => device.ConnectAsync());
    }
}
