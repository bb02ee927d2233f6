using Onboarding.Ssh.Keys;
using Onboarding.Ssh.Transport;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Auth;

/// <summary>
/// RFC 4252 server side: "ssh-userauth" service, then "password" and "publickey" requests decided by the
/// application's callbacks. The library verifies publickey signatures itself; a query (no signature) is
/// answered with PK_OK only if the callback accepts the key. Failures are counted and delayed.
/// </summary>
internal static class ServerAuthentication
{
    public const string UserAuthService = "ssh-userauth";

    public static async Task<string> RunAsync(SshTransport transport, SshServerOptions options, CancellationToken ct)
    {
        var first = await transport.ReceiveAsync(ct).ConfigureAwait(false);
        var fr = new SshReader(first);
        if (first[0] != ServiceRequestMessage.RequestNumber || ServiceRequestMessage.Read(ref fr).ServiceName != UserAuthService)
            throw new SshProtocolException(SshDisconnectReason.ServiceNotAvailable, "Expected a request for ssh-userauth");
        await SendAsync(transport, w => new ServiceRequestMessage(ServiceRequestMessage.AcceptNumber, UserAuthService).Write(w), ct).ConfigureAwait(false);

        var methods = new List<string>();
        if (options.PublicKeyAuthenticator is not null)
            methods.Add("publickey");
        if (options.PasswordAuthenticator is not null)
            methods.Add("password");
        var failures = 0;
        while (true)
        {
            var p = await transport.ReceiveAsync(ct).ConfigureAwait(false);
            if (p[0] != UserAuthRequestMessage.Number)
                throw new SshProtocolException(SshDisconnectReason.ProtocolError, $"Unexpected message {p[0]} during authentication");
            var r = new SshReader(p);
            var request = UserAuthRequestMessage.Read(ref r);
            if (request.ServiceName != UserAuthRequestMessage.ConnectionService)
                throw new SshProtocolException(SshDisconnectReason.ServiceNotAvailable, "Only ssh-connection is available");

            var outcome = await DecideAsync(transport, options, request, ct).ConfigureAwait(false);
            switch (outcome)
            {
                case Outcome.Success:
                    await SendAsync(transport, w => w.WriteByte(UserAuthSuccessMessage.Number), ct).ConfigureAwait(false);
                    return request.UserName;
                case Outcome.PkOk:
                    await SendAsync(transport, w => new UserAuthPkOkMessage(request.Algorithm!, request.KeyBlob!).Write(w), ct).ConfigureAwait(false);
                    continue;
                case Outcome.FailureNotCounted:
                    break;
                default:
                    failures++;
                    if (failures >= options.MaxAuthAttempts)
                        throw new SshAuthenticationException("Too many authentication failures");
                    if (options.AuthFailureDelay > TimeSpan.Zero)
                        await Task.Delay(options.AuthFailureDelay, ct).ConfigureAwait(false);
                    break;
            }
            await SendAsync(transport, w => new UserAuthFailureMessage([.. methods], false).Write(w), ct).ConfigureAwait(false);
        }
    }

    private enum Outcome
    {
        Success,
        PkOk,
        Failure,
        FailureNotCounted,
    }

    private static async ValueTask<Outcome> DecideAsync(SshTransport transport, SshServerOptions options, UserAuthRequestMessage request, CancellationToken ct)
    {
        switch (request.Method)
        {
            case "none":
                // RFC 4252 §5.2: "none" lists the methods that can continue; not counted as a failure.
                return Outcome.FailureNotCounted;
            case "password" when options.PasswordAuthenticator is not null:
                return await options.PasswordAuthenticator(new SshPasswordRequest(request.UserName, request.Password!, transport.PeerVersion), ct).ConfigureAwait(false)
                    ? Outcome.Success
                    : Outcome.Failure;
            case "publickey" when options.PublicKeyAuthenticator is not null:
            {
                SshPublicKey key;
                try
                {
                    key = SshPublicKey.Parse(request.KeyBlob);
                }
                catch (SshProtocolException)
                {
                    return Outcome.Failure;
                }
                // The algorithm must belong to the key type; SHA-1 "ssh-rsa" is refused.
                if (SshKeyAlgorithms.KeyTypeForSignature(request.Algorithm!) != key.KeyType)
                    return Outcome.Failure;
                if (!request.HasSignature)
                {
                    var acceptable = await options.PublicKeyAuthenticator(new SshPublicKeyRequest(request.UserName, key, false, transport.PeerVersion), ct).ConfigureAwait(false);
                    return acceptable ? Outcome.PkOk : Outcome.Failure;
                }
                var signed = UserAuthRequestMessage.SignedData(transport.SessionId, request.UserName, request.ServiceName, request.Algorithm!, request.KeyBlob);
                if (!SignatureAlgorithmMatches(request.Signature!, request.Algorithm!) || !key.Verify(request.Signature, signed))
                    return Outcome.Failure;
                return await options.PublicKeyAuthenticator(new SshPublicKeyRequest(request.UserName, key, true, transport.PeerVersion), ct).ConfigureAwait(false)
                    ? Outcome.Success
                    : Outcome.Failure;
            }
            default:
                return Outcome.Failure;
        }
    }

    private static bool SignatureAlgorithmMatches(byte[] signature, string algorithm)
    {
        try
        {
            var r = new SshReader(signature);
            return r.ReadAscii() == algorithm;
        }
        catch (SshProtocolException)
        {
            return false;
        }
    }

    private static async ValueTask SendAsync(SshTransport transport, Action<SshWriter> write, CancellationToken ct)
    {
        using var w = new SshWriter();
        write(w);
        await transport.SendAsync(w, ct).ConfigureAwait(false);
    }
}
