using Onboarding.Ssh.Keys;
using Onboarding.Ssh.Transport;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Auth;

/// <summary>RFC 4252 client side: publickey (signature chosen from server-sig-algs, RFC 8308 §3.1) then password.</summary>
internal static class ClientAuthentication
{
    public static async Task RunAsync(SshTransport transport, SshClientOptions options, CancellationToken ct)
    {
        using (var w = new SshWriter())
        {
            new ServiceRequestMessage(ServiceRequestMessage.RequestNumber, ServerAuthentication.UserAuthService).Write(w);
            await transport.SendAsync(w, ct).ConfigureAwait(false);
        }
        var accept = await transport.ReceiveAsync(ct).ConfigureAwait(false);
        if (accept[0] != ServiceRequestMessage.AcceptNumber)
            throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Expected SERVICE_ACCEPT");

        if (options.ClientKey is { } key)
        {
            var algorithm = ChooseAlgorithm(key, transport.ServerSigAlgs);
            var blob = key.PublicKey.Blob;
            var signed = UserAuthRequestMessage.SignedData(transport.SessionId, options.UserName, UserAuthRequestMessage.ConnectionService, algorithm, blob);
            var request = new UserAuthRequestMessage
            {
                UserName = options.UserName,
                ServiceName = UserAuthRequestMessage.ConnectionService,
                Method = "publickey",
                HasSignature = true,
                Algorithm = algorithm,
                KeyBlob = blob,
                Signature = key.Sign(algorithm, signed),
            };
            if (await TryAsync(transport, request, ct).ConfigureAwait(false))
                return;
        }
        if (options.Password is { } password)
        {
            var request = new UserAuthRequestMessage
            {
                UserName = options.UserName,
                ServiceName = UserAuthRequestMessage.ConnectionService,
                Method = "password",
                Password = password,
            };
            if (await TryAsync(transport, request, ct).ConfigureAwait(false))
                return;
        }
        throw new SshAuthenticationException("Authentication failed: no method was accepted");
    }

    /// <summary>RSA: the first of rsa-sha2-512/256 the server lists (RFC 8332 §3.3); when it sent no list, rsa-sha2-512.</summary>
    internal static string ChooseAlgorithm(SshHostKey key, IReadOnlyList<string>? serverSigAlgs)
    {
        foreach (var alg in key.SignatureAlgorithms)
        {
            if (serverSigAlgs is null || serverSigAlgs.Contains(alg))
                return alg;
        }
        return key.SignatureAlgorithms[0];
    }

    private static async Task<bool> TryAsync(SshTransport transport, UserAuthRequestMessage request, CancellationToken ct)
    {
        using (var w = new SshWriter())
        {
            request.Write(w);
            await transport.SendAsync(w, ct).ConfigureAwait(false);
        }
        while (true)
        {
            var p = await transport.ReceiveAsync(ct).ConfigureAwait(false);
            switch (p[0])
            {
                case UserAuthSuccessMessage.Number:
                    return true;
                case UserAuthFailureMessage.Number:
                    return false;
                case UserAuthBannerMessage.Number:
                    continue;
                default:
                    throw new SshProtocolException(SshDisconnectReason.ProtocolError, $"Unexpected message {p[0]} during authentication");
            }
        }
    }
}
