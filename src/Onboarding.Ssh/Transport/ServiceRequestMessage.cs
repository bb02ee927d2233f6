using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Transport;

/// <summary>RFC 4253 §10 SSH_MSG_SERVICE_REQUEST / SSH_MSG_SERVICE_ACCEPT (same layout, different number).</summary>
internal readonly record struct ServiceRequestMessage(byte Number, string ServiceName)
{
    public const byte RequestNumber = 5;
    public const byte AcceptNumber = 6;

    public static ServiceRequestMessage Read(ref SshReader r)
    {
        var number = r.ReadByte();
        var name = r.ReadAscii();
        r.EnsureEnd();
        return new ServiceRequestMessage(number, name);
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteString(ServiceName);
    }
}
