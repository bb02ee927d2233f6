using Microsoft.Extensions.Logging;
using Onboarding.Sftp.Server;

namespace Onboarding.Sftp;

/// <summary>An SFTP version 3 server (draft-ietf-secsh-filexfer-02) over any duplex stream, e.g. an SSH "sftp" subsystem channel.</summary>
public sealed class SftpServer
{
    private SftpServer()
    {
    }

    /// <summary>
    /// Serves one session until the client closes the stream or <paramref name="cancellationToken"/>
    /// fires. Handles still open at the end are passed to <see cref="ISftpHandler.AbortAsync"/>.
    /// Completes normally when the client disconnects; throws <see cref="SftpProtocolException"/>
    /// when the client breaks the framing or the INIT exchange.
    /// </summary>
    public static async Task RunAsync(Stream channel, ISftpHandler handler, SftpServerOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        using var session = new SftpServerSession(channel, handler, options, logger);
        await session.RunAsync(cancellationToken);
    }
}
