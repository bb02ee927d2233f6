using Microsoft.Extensions.Logging;

namespace Onboarding.Mqtt;

/// <summary>Source-generated log messages; every one carries the client id. Passwords never appear.</summary>
internal static partial class MqttLog
{
    [LoggerMessage(1, LogLevel.Information, "MQTT {ClientId} connection #{Connection} to {Host}:{Port} established (protocol level {Version}, session present {SessionPresent}, keep alive {KeepAlive})")]
    public static partial void Connected(ILogger logger, string clientId, int connection, string host, int port, int version, bool sessionPresent, TimeSpan keepAlive);

    [LoggerMessage(2, LogLevel.Information, "MQTT {ClientId} disconnected")]
    public static partial void Disconnected(ILogger logger, string clientId);

    [LoggerMessage(3, LogLevel.Warning, "MQTT {ClientId}: connection #{Connection} lost: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, string clientId, int connection, string reason);

    [LoggerMessage(4, LogLevel.Warning, "MQTT {ClientId}: reconnect attempt {Attempt} failed: {Error}")]
    public static partial void ReconnectFailed(ILogger logger, string clientId, int attempt, string error);

    [LoggerMessage(5, LogLevel.Error, "MQTT {ClientId}: re-subscribe refused for {Filters}: {Codes}")]
    public static partial void ResubscribeRefused(ILogger logger, string clientId, string filters, string codes);

    [LoggerMessage(6, LogLevel.Debug, "MQTT {ClientId}: {PacketType} for unknown packet identifier {PacketId}")]
    public static partial void UnknownPacketId(ILogger logger, string clientId, string packetType, int packetId);

    [LoggerMessage(7, LogLevel.Debug, "MQTT {ClientId}: DISCONNECT could not be flushed")]
    public static partial void DisconnectNotFlushed(ILogger logger, Exception exception, string clientId);

    [LoggerMessage(8, LogLevel.Warning, "MQTT {ClientId}: closing connection with reason 0x{ReasonCode:X2}: {Error}")]
    public static partial void ProtocolViolation(ILogger logger, string clientId, byte reasonCode, string error);

    [LoggerMessage(9, LogLevel.Trace, "MQTT {ClientId} sent {PacketType}")]
    public static partial void PacketSent(ILogger logger, string clientId, string packetType);

    [LoggerMessage(10, LogLevel.Warning, "MQTT {ClientId}: no PINGRESP within {Timeout}; closing")]
    public static partial void PingTimeout(ILogger logger, string clientId, TimeSpan timeout);

    [LoggerMessage(11, LogLevel.Warning, "MQTT {ClientId}: broker exceeded our Receive Maximum {ReceiveMaximum} ({Unacknowledged} unacknowledged); tolerated up to twice the window")]
    public static partial void ReceiveMaximumOverrun(ILogger logger, string clientId, int receiveMaximum, int unacknowledged);
}
