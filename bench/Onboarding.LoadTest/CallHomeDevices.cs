using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.LoadTest;

/// <summary>
/// A simulated call-home device (RFC 8071 §3.1): the SSH server on a connection, presenting its own host key and letting in
/// only the NMS client key for the call-home user. No channel is served (neither the host nor the baseline opens one):
/// what is measured is the session itself. The same device options serve both rows: it dials the host (ours) or listens
/// for an OpenSSH client (baseline).
/// </summary>
internal static class CallHomeDevices
{
    public static SshServerOptions Options(SshHostKey hostKey, SshPublicKey nmsKey, string userName) => new()
    {
        HostKeys = [hostKey],
        PublicKeyAuthenticator = (request, _) => ValueTask.FromResult(request.Key.Equals(nmsKey) && request.UserName == userName),
        AuthenticationTimeout = TimeSpan.FromMinutes(5),
    };

    /// <summary>The device's IDevID key as its SSH host key (a Bookkept device is identified by it, src/Onboarding.CallHome/README.md).</summary>
    public static SshHostKey HostKeyOf(X509Certificate2 idevid)
    {
        using var key = idevid.GetECDsaPrivateKey() ?? throw new InvalidOperationException("the IDevID has no ECDSA private key");
        return SshHostKey.ParseOpenSshPrivateKey(key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Dials the NMS and runs the SSH server on that connection until the NMS's userauth succeeded.</summary>
    public static async Task<SshServerSession> CallHomeAsync(int port, SshServerOptions options, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            return await SshServerSession.AcceptAsync(new NetworkStream(socket, ownsSocket: true), options, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
