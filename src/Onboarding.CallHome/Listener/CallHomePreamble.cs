using Onboarding.Netconf;
using Onboarding.Netconf.OutboundSsh;

namespace Onboarding.CallHome.Listener;

/// <summary>A connection that ended, or was refused, before SSH began; the message says why (for the log).</summary>
internal sealed class CallHomePreambleException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What came before SSH: the outbound-ssh preamble (null for plain RFC 8071) and the bytes that belong to SSH.</summary>
internal sealed record CallHomeStart(OutboundSshPreamble? Preamble, byte[] SshPrefix);

/// <summary>
/// The first bytes of a call-home connection. RFC 8071 §3.1: the device, as the SSH server, speaks first with its
/// identification string; a Juniper outbound-ssh device first writes DEVICE-CONN-INFO lines. Both are read by an
/// unauthenticated peer, so the preamble is bounded in size (<see cref="CallHomeListenerOptions.PreambleMaxBytes"/>) and
/// in time (<see cref="CallHomeListenerOptions.PreambleTimeout"/> for everything before SSH).
/// </summary>
internal static class CallHomePreamble
{
    /// <summary>A 3-line device that waits for our SSH version first: end its preamble after this much silence.</summary>
    private static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(2);

    public static async Task<CallHomeStart> ReadAsync(Stream stream, CallHomeListenerOptions options, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.PreambleTimeout);
        var first = new byte[Math.Max(64, options.PreambleMaxBytes)];
        var seen = 0;
        var detection = PreambleDetection.NeedMore;
        while (detection == PreambleDetection.NeedMore)
        {
            if (seen == first.Length)
                throw new CallHomePreambleException($"{seen} bytes of NULs and blank lines before SSH or a preamble");
            seen += await ReadSomeAsync(stream, first.AsMemory(seen), deadline, options, cancellationToken);
            detection = OutboundSshPreambleReader.Detect(first.AsSpan(0, seen));
        }

        if (detection == PreambleDetection.NotPreamble)
            return new CallHomeStart(null, first[..seen]);

        var reader = new OutboundSshPreambleReader(new OutboundSshPreambleLimits { MaxBytes = options.PreambleMaxBytes });
        try
        {
            var status = reader.Feed(first.AsSpan(0, seen));
            var buffer = new byte[1024];
            while (status == PreambleStatus.NeedMore)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                quiet.CancelAfter(QuietPeriod);
                int n;
                try
                {
                    n = await stream.ReadAsync(buffer, quiet.Token);
                }
                catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
                {
                    // Quiet for a while: a 3-line device now waiting for our identification string ends here.
                    if (reader.Complete())
                        break;
                    continue;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw TimedOut(options);
                }

                if (n == 0)
                    throw new CallHomePreambleException("the device closed the connection during the outbound-ssh preamble");
                status = reader.Feed(buffer.AsSpan(0, n));
            }
        }
        catch (NetconfException ex)
        {
            throw new CallHomePreambleException(ex.Message, ex);
        }

        return new CallHomeStart(reader.Preamble, reader.Remainder);
    }

    private static async Task<int> ReadSomeAsync(Stream stream, Memory<byte> buffer, CancellationTokenSource timeout, CallHomeListenerOptions options,
        CancellationToken cancellationToken)
    {
        int n;
        try
        {
            n = await stream.ReadAsync(buffer, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(options);
        }

        return n > 0 ? n : throw new CallHomePreambleException("the device closed the connection before SSH began");
    }

    private static CallHomePreambleException TimedOut(CallHomeListenerOptions options) =>
        new($"no SSH identification or complete outbound-ssh preamble within {options.PreambleTimeout.TotalSeconds:0.#} s");
}
