using Onboarding.Ssh.Connection;

namespace Onboarding.Ssh;

/// <summary>
/// An exec, subsystem or shell request on a session channel (RFC 4254 §6.5). The handler decides by returning
/// true or false; the library then sends SSH_MSG_CHANNEL_SUCCESS or FAILURE. Work the handler starts in the
/// background must await <see cref="ReplySent"/> before it writes to the channel, or its output, exit-status and
/// CLOSE could reach the client before the reply, which the client then reads as a refusal.
/// </summary>
public sealed class SshChannelRequest(SshChannel channel, string requestType, string? command, string? subsystem, string userName, Task replySent)
{
    public SshChannel Channel { get; } = channel;

    /// <summary>Completes once the reply to this request has been queued ahead of anything the channel sends later.</summary>
    public Task ReplySent { get; } = replySent;

    /// <summary>"exec", "subsystem" or "shell".</summary>
    public string RequestType { get; } = requestType;

    public string? Command { get; } = command;
    public string? Subsystem { get; } = subsystem;
    public string UserName { get; } = userName;
}
