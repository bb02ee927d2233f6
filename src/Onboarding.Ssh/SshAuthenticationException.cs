namespace Onboarding.Ssh;

/// <summary>Authentication failed: the client ran out of methods, or the server refused after too many attempts.</summary>
public sealed class SshAuthenticationException(string message) : SshProtocolException(SshDisconnectReason.NoMoreAuthMethodsAvailable, message);
