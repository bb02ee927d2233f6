namespace Onboarding.Sftp;

/// <summary>
/// The outcome of one request as carried by SSH_FXP_STATUS (draft-ietf-secsh-filexfer-02 §7):
/// a code and a human-readable message that OpenSSH's sftp client prints to its user.
/// </summary>
public readonly record struct SftpStatus(SftpStatusCode Code, string Message)
{
    public static SftpStatus Ok { get; } = new(SftpStatusCode.Ok, "Success");

    public bool IsOk => Code == SftpStatusCode.Ok;

    public static SftpStatus Eof(string message = "End of file") => new(SftpStatusCode.Eof, message);

    public static SftpStatus NoSuchFile(string message = "No such file") => new(SftpStatusCode.NoSuchFile, message);

    public static SftpStatus PermissionDenied(string message = "Permission denied") => new(SftpStatusCode.PermissionDenied, message);

    public static SftpStatus Failure(string message = "Failure") => new(SftpStatusCode.Failure, message);

    public static SftpStatus BadMessage(string message = "Bad message") => new(SftpStatusCode.BadMessage, message);

    public static SftpStatus OpUnsupported(string message = "Operation unsupported") => new(SftpStatusCode.OpUnsupported, message);

    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>Either a value or a non-OK <see cref="SftpStatus"/>; handlers return errors, never throw them.</summary>
public readonly struct SftpResult<T> : IEquatable<SftpResult<T>>
{
    private readonly T? _value;

    public SftpResult(T value)
    {
        _value = value;
        Status = SftpStatus.Ok;
    }

    public SftpResult(SftpStatus error)
    {
        if (error.IsOk)
        {
            throw new ArgumentException("An error result needs a non-OK status.", nameof(error));
        }

        _value = default;
        Status = error;
    }

    public SftpStatus Status { get; }

    public bool IsOk => Status.IsOk;

    public T Value => IsOk ? _value! : throw new InvalidOperationException($"No value: {Status}");

#pragma warning disable CA2225 // Implicit conversions are the point: `return SftpStatus.NoSuchFile();` reads naturally in a handler.
    public static implicit operator SftpResult<T>(T value) => new(value);

    public static implicit operator SftpResult<T>(SftpStatus error) => new(error);
#pragma warning restore CA2225

    public bool Equals(SftpResult<T> other) => Status == other.Status && EqualityComparer<T?>.Default.Equals(_value, other._value);

    public override bool Equals(object? obj) => obj is SftpResult<T> other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Status, _value);

    public static bool operator ==(SftpResult<T> left, SftpResult<T> right) => left.Equals(right);

    public static bool operator !=(SftpResult<T> left, SftpResult<T> right) => !left.Equals(right);
}
