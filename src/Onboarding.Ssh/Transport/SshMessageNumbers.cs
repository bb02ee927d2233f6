namespace Onboarding.Ssh.Transport;

/// <summary>RFC 4250 §4.1.2 message numbers of messages with no fields worth a type of their own.</summary>
internal static class SshMessageNumbers
{
    public const byte Disconnect = 1;
    public const byte Ignore = 2;
    public const byte Unimplemented = 3;
    public const byte Debug = 4;
    public const byte ServiceRequest = 5;
    public const byte ServiceAccept = 6;
    public const byte ExtInfo = 7;
    public const byte KexInit = 20;
    public const byte NewKeys = 21;
    public const byte KexDhInit = 30;
    public const byte KexDhReply = 31;

    /// <summary>RFC 4253 §7.1: messages 1-49 except SERVICE_REQUEST/ACCEPT and EXT_INFO are allowed during key exchange.</summary>
    public static bool IsTransportOrKex(byte number) => number is >= 1 and <= 49 and not (ServiceRequest or ServiceAccept or ExtInfo);

    public static bool IsKexMethodMessage(byte number) => number is >= 20 and <= 49;
}
