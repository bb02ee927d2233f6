using Microsoft.Extensions.Logging;
using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt.Tests.Client;

public class LoggingTests
{
    [Fact]
    public async Task Logs_carry_the_client_id_and_never_the_password()
    {
        var logger = new CapturingLogger();
        await using var broker = new FakeBroker();
        await using (var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1", Port = broker.Port, ClientId = "logged-client", UserName = "u", Password = "hunter2-secret",
            ReconnectMinDelay = TimeSpan.FromMilliseconds(10),
        }, logger))
        {
            var accept = broker.AcceptAndConnAckAsync(MqttProtocolVersion.V500);
            await client.ConnectAsync();
            var (session, _) = await accept;
            await session.DisposeAsync(); // connection lost → warning
            var (again, _) = await broker.AcceptAndConnAckAsync(MqttProtocolVersion.V500);
            await again.SendRawAsync(Codec.Hex.Bytes("30 04 00 01 2B 00")); // '+' in a topic name → protocol violation log
            await again.ReadAsync();
            await again.DisposeAsync();
        }
        var lines = logger.Lines;

        Assert.NotEmpty(lines);
        Assert.Contains(lines, l => l.Contains("logged-client connection #2 to", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("0x90", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.DoesNotContain("hunter2", l, StringComparison.Ordinal));
        Assert.All(lines.Where(l => l.StartsWith("MQTT", StringComparison.Ordinal)), l => Assert.Contains("logged-client", l, StringComparison.Ordinal));
    }

    private sealed class CapturingLogger : ILogger<MqttClient>
    {
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                    return [.. _lines];
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
                _lines.Add(formatter(state, exception) + (exception is null ? "" : " " + exception));
        }
    }
}
