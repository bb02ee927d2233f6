using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Auth;

/// <summary>
/// RFC 4252 §5 SSH_MSG_USERAUTH_REQUEST with the "none", "password" (§8) and "publickey" (§7) method fields.
/// Unknown methods keep only the common header.
/// </summary>
internal sealed record UserAuthRequestMessage
{
    public const byte Number = 50;
    public const string ConnectionService = "ssh-connection";

    public required string UserName { get; init; }
    public required string ServiceName { get; init; }
    public required string Method { get; init; }
    public string? Password { get; init; }
    public bool HasSignature { get; init; }
    public string? Algorithm { get; init; }
    public byte[]? KeyBlob { get; init; }
    public byte[]? Signature { get; init; }

    public static UserAuthRequestMessage Read(ref SshReader r)
    {
        r.ReadByte();
        var user = r.ReadUtf8();
        var service = r.ReadAscii();
        var method = r.ReadAscii();
        switch (method)
        {
            case "password":
            {
                if (r.ReadBoolean())
                    throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Password change is not supported");
                var password = r.ReadUtf8();
                r.EnsureEnd();
                return new UserAuthRequestMessage { UserName = user, ServiceName = service, Method = method, Password = password };
            }
            case "publickey":
            {
                var hasSignature = r.ReadBoolean();
                var algorithm = r.ReadAscii();
                var blob = r.ReadString().ToArray();
                var signature = hasSignature ? r.ReadString().ToArray() : null;
                r.EnsureEnd();
                return new UserAuthRequestMessage
                {
                    UserName = user, ServiceName = service, Method = method, HasSignature = hasSignature, Algorithm = algorithm, KeyBlob = blob, Signature = signature,
                };
            }
            default:
                // "none" and methods we do not implement: the remaining fields are irrelevant.
                return new UserAuthRequestMessage { UserName = user, ServiceName = service, Method = method };
        }
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteString(UserName);
        w.WriteString(ServiceName);
        w.WriteString(Method);
        if (Method == "password")
        {
            w.WriteBoolean(false);
            w.WriteString(Password!);
        }
        else if (Method == "publickey")
        {
            w.WriteBoolean(HasSignature);
            w.WriteString(Algorithm!);
            w.WriteString(KeyBlob!);
            if (HasSignature)
                w.WriteString(Signature!);
        }
    }

    /// <summary>RFC 4252 §7: the data the client signs for publickey authentication.</summary>
    public static byte[] SignedData(ReadOnlySpan<byte> sessionId, string user, string service, string algorithm, ReadOnlySpan<byte> keyBlob)
    {
        using var w = new SshWriter(512);
        w.WriteString(sessionId);
        w.WriteByte(Number);
        w.WriteString(user);
        w.WriteString(service);
        w.WriteString("publickey");
        w.WriteBoolean(true);
        w.WriteString(algorithm);
        w.WriteString(keyBlob);
        return w.ToArray();
    }

    // The password must never appear in logs.
    public override string ToString() => $"UserAuthRequest {{ UserName = {UserName}, Method = {Method} }}";
}
