using Microsoft.Extensions.Logging;
using Onboarding.Ssh;

namespace Onboarding.CallHome.Sessions;

/// <summary>
/// Keeps a live call-home session honest, as OpenSSH's ServerAliveInterval/ServerAliveCountMax do: every
/// <see cref="CallHomeListenerOptions.KeepaliveInterval"/> a <c>keepalive@openssh.com</c> global request wanting a reply.
/// Any answer (REQUEST_FAILURE included, RFC 4254 §4) proves the device alive and moves the session's LastSeen. After
/// <see cref="CallHomeListenerOptions.KeepaliveCountMax"/> intervals in a row without an answer the path is taken as
/// half-open (a NAT or firewall dropped it without a reset, the device lost power): the session is closed, which ends
/// the connection and takes it out of the registry, so the device's next call is not mistaken for a duplicate.
/// </summary>
internal sealed class CallHomeKeepalive(TimeProvider clock, ILogger<CallHomeKeepalive> logger)
{
    /// <summary>Runs until the session ends, <paramref name="cancellationToken"/> fires, or the session is found half-open (then closed).</summary>
    public async Task RunAsync(LiveCallHome live, CallHomeListenerOptions settings, CancellationToken cancellationToken)
    {
        var session = live.Session;
        var unanswered = 0;
        Task<bool>? outstanding = null;
        while (!session.Completion.IsCompleted)
        {
            try
            {
                if (outstanding is null)
                {
                    await Task.WhenAny(Task.Delay(settings.KeepaliveInterval, clock, cancellationToken), session.Completion);
                    cancellationToken.ThrowIfCancellationRequested();
                    if (session.Completion.IsCompleted)
                        return;
                    outstanding = session.GlobalRequestAsync(SshClientSession.KeepaliveRequestName, wantReply: true, cancellationToken);
                }

                // Wait one interval for the answer; a later answer to this request still counts when it comes.
                var answered = await Task.WhenAny(outstanding, Task.Delay(settings.KeepaliveInterval, clock, cancellationToken)) == outstanding;
                cancellationToken.ThrowIfCancellationRequested();
                if (answered)
                {
                    await outstanding;
                    outstanding = null;
                    unanswered = 0;
                    live.Seen(clock.GetUtcNow());
                    continue;
                }

                unanswered++;
                if (unanswered < settings.KeepaliveCountMax)
                    continue;
                logger.LogWarning("Call-home session of device {Serial} ({DeviceId}, connection {ConnectionId}) from {RemoteEndPoint} is half-open: " +
                    "{Unanswered} keepalives unanswered over {Silence:0.#} s, last seen {LastSeen:o}; closing it",
                    live.Device.SerialNumber, live.Device.Id, live.ConnectionId, live.RemoteEndPoint, unanswered,
                    (clock.GetUtcNow() - live.LastSeen).TotalSeconds, live.LastSeen);
                await session.DisposeAsync();
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (SshConnectionLostException)
            {
                return; // the session ended on its own; the connection's owner logs that
            }
        }
    }
}
