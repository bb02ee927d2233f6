using System.Collections.Concurrent;
using System.Text;
using System.Xml.Linq;
using Onboarding.DeviceSim.Telemetry;
using Onboarding.Netconf;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.Messages;
using Onboarding.Ssh;

namespace Onboarding.DeviceSim.CallHome;

/// <summary>
/// The device's side of one call-home SSH session: the <c>netconf</c> subsystem (RFC 6242) over the device's
/// <see cref="InMemoryDatastore"/>, and, for a CLI device, exec requests. Notes whether the NMS configured the device in
/// this session: a commit (:candidate), an edit-config of running (:writable-running), or a command that succeeded.
/// </summary>
internal sealed class DeviceManagementSession(InMemoryDatastore datastore, CallHomeSettings settings, uint firstSessionId,
    ConcurrentQueue<string> commands, Func<bool> dropAfterEditConfig, TelemetryAgent? telemetry = null) : IDisposable
{
    private static readonly XNamespace Nc = NetconfXml.Base;
    private readonly CancellationTokenSource _closed = new();
    private uint _nextSessionId = firstSessionId;
    private int _configured;

    public bool Configured => Volatile.Read(ref _configured) == 1;

    /// <summary>Called when this session first configured the device (the commit, the edit of running, the successful command).</summary>
    public Action? ConfiguredNow { get; init; }

    /// <summary>NETCONF session ids this SSH session used (one per netconf channel); the device's next session continues after them.</summary>
    public uint NextSessionId => _nextSessionId;

    /// <summary>Set when the drop-mid-config fault fired: the caller closes the socket.</summary>
    public TaskCompletionSource Dropped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Set when the NMS ended a NETCONF session (close-session or channel close) after it configured the device: the NMS
    /// is done with it. The NMS keeps the SSH connection itself, as the persistent call-home configuration it rendered
    /// asks (RFC 8071 §4.1), so waiting for the NMS to close it would never end a run that is not <c>--stay</c>.
    /// </summary>
    public TaskCompletionSource ConfiguredSessionEnded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<string> Capabilities =>
    [
        NetconfCapabilities.Base10, NetconfCapabilities.Base11,
        settings.WritableRunningOnly ? NetconfCapabilities.WritableRunning : NetconfCapabilities.Candidate,
        .. telemetry is null ? Array.Empty<string>() : [TelemetryAgent.Capability],
    ];

    /// <summary>The <see cref="SshServerOptions.ChannelRequestHandler"/>: netconf always, exec only for a CLI device, shell never.</summary>
    public ValueTask<bool> HandleChannelRequestAsync(SshChannelRequest request, CancellationToken cancellationToken)
    {
        if (request.RequestType == "subsystem" && request.Subsystem == "netconf")
        {
            var sessionId = Interlocked.Increment(ref _nextSessionId) - 1;
            _ = Task.Run(() => ServeNetconfAsync(request, sessionId), CancellationToken.None);
            return ValueTask.FromResult(true);
        }
        if (request.RequestType == "exec" && settings.Cli && request.Command is { } command)
        {
            _ = Task.Run(() => RunCommandAsync(request, command), CancellationToken.None);
            return ValueTask.FromResult(true);
        }
        return ValueTask.FromResult(false);
    }

    private async Task ServeNetconfAsync(SshChannelRequest request, uint sessionId)
    {
        try
        {
            await request.ReplySent;
            await using var channel = request.Channel.AsStream();
            await NetconfServerSession.RunAsync(channel, new NetconfServerOptions { SessionId = sessionId, Capabilities = Capabilities },
                (rpc, ct) => HandleRpcAsync(rpc, ct), _closed.Token);
            // Like sshd when a subsystem exits: OpenSSH's ssh -s reports 255 for a channel closed without exit-status.
            await request.Channel.SendExitStatusAsync(0);
            await request.Channel.CloseAsync();
            // Only now: the exit status and the close go out before the device disconnects.
            if (Configured)
                ConfiguredSessionEnded.TrySetResult();
        }
        catch (Exception e) when (e is NetconfException or SshConnectionLostException or SshProtocolException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The session ends with the connection; the call-home loop reports why.
        }
        finally
        {
            // RFC 6241 §7.5: a session's locks go with it.
            datastore.ReleaseLocks(sessionId);
        }
    }

    /// <summary>The datastore's RPCs, limited to what the advertised capabilities allow (RFC 6241 §8.3, §8.2).</summary>
    private async ValueTask<XElement?> HandleRpcAsync(NetconfRpcRequest request, CancellationToken cancellationToken)
    {
        var op = request.Operation;
        var name = op.Name == Nc + op.Name.LocalName ? op.Name.LocalName : "";
        var target = op.Element(Nc + "target")?.Elements().FirstOrDefault()?.Name.LocalName;
        if (settings.WritableRunningOnly && (name is "commit" or "discard-changes" || target == "candidate" || op.Element(Nc + "source")?.Element(Nc + "candidate") is not null))
            throw NotSupported("this device has no candidate datastore (:writable-running only)");
        if (!settings.WritableRunningOnly && name == "edit-config" && target == "running")
            throw NotSupported("running is not writable here (:candidate): edit the candidate and commit");

        if (telemetry is not null && op.Name.Namespace == TelemetryAgent.Ns)
            return TelemetryAgent.IsRpc(op) ? telemetry.GenerateCsr(op) : throw TelemetryAgent.Unknown(op);

        var result = await datastore.HandleRpcAsync(request, cancellationToken);
        if (name == "edit-config" && dropAfterEditConfig())
        {
            Dropped.TrySetResult();
            // Never answer: the caller closes the socket under us.
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        if (name == "commit" || (name == "edit-config" && target == "running"))
        {
            MarkConfigured();
            telemetry?.RunningChanged(datastore.Snapshot(DatastoreName.Running));
        }
        return result;
    }

    private async Task RunCommandAsync(SshChannelRequest request, string command)
    {
        try
        {
            await request.ReplySent;
            commands.Enqueue(command);
            var channel = request.Channel;
            if (settings.FailingCommand is { Length: > 0 } failing && command.Contains(failing, StringComparison.Ordinal))
            {
                await channel.WriteStandardErrorAsync(Encoding.UTF8.GetBytes($"error: '{command}' failed (simulated)\n"));
                await channel.SendExitStatusAsync(1);
            }
            else
            {
                await channel.WriteAsync(Encoding.UTF8.GetBytes($"ok: {command}\n"));
                await channel.SendExitStatusAsync(0);
                MarkConfigured();
            }
            await channel.SendEofAsync();
            await channel.CloseAsync();
        }
        catch (Exception e) when (e is SshConnectionLostException or SshProtocolException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection went away while answering.
        }
    }

    private void MarkConfigured()
    {
        if (Interlocked.Exchange(ref _configured, 1) == 0)
            ConfiguredNow?.Invoke();
    }

    /// <summary>The connection is gone: NETCONF work still running on its channels ends.</summary>
    public void Dispose()
    {
        _closed.Cancel();
        _closed.Dispose();
    }

    private static NetconfRpcException NotSupported(string message) =>
        new(new RpcError(RpcErrorType.Protocol, "operation-not-supported", RpcErrorSeverity.Error, Message: message));
}
