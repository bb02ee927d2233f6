using Onboarding.Ssh.Connection;

namespace Onboarding.Ssh;

/// <summary>An exec, subsystem or shell request on a session channel (RFC 4254 §6.5).</summary>
public sealed class SshChannelRequest(SshChannel channel, string requestType, string? command, string? subsystem, string userName)
{
    public SshChannel Channel { get; } = channel;

    /// <summary>"exec", "subsystem" or "shell".</summary>
    public string RequestType { get; } = requestType;

    public string? Command { get; } = command;
    public string? Subsystem { get; } = subsystem;
    public string UserName { get; } = userName;
}
