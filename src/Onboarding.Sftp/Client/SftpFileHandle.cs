namespace Onboarding.Sftp;

/// <summary>An opaque handle the server returned for an open file or directory (draft-ietf-secsh-filexfer-02 §7 SSH_FXP_HANDLE).</summary>
public sealed class SftpFileHandle
{
    internal SftpFileHandle(byte[] value) => Value = value;

    internal byte[] Value { get; }

    public override string ToString() => Convert.ToHexString(Value);
}
