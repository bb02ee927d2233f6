namespace Onboarding.Ssh;

/// <summary>The peer refused to open a channel (RFC 4254 §5.1).</summary>
public sealed class SshChannelOpenException(uint reasonCode, string description) : Exception($"Channel open failed ({reasonCode}): {description}")
{
    public uint ReasonCode { get; } = reasonCode;
}
