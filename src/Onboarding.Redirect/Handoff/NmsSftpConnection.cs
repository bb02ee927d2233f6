using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Onboarding.Redirect.Profiles;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Onboarding.Redirect.Handoff;

/// <summary>Where and how to log in to one NMS's SFTP drop; the secret is decrypted only for the connection.</summary>
internal sealed record HandoffTarget(Guid ProfileId, Guid ManufacturerId, string Host, int Port, string Username, CredentialMode Mode,
    string? Passphrase, string? ClientKey, IReadOnlyList<string> Fingerprints)
{
    public override string ToString() => $"sftp://{Username}@{Host}:{Port} (profile {ProfileId})"; // never the secret

    /// <summary>The same login to the same pinned server (record equality would compare the fingerprint list by reference).</summary>
    public bool SameLogin(HandoffTarget other) =>
        ProfileId == other.ProfileId && Host == other.Host && Port == other.Port && Username == other.Username && Mode == other.Mode
        && Passphrase == other.Passphrase && ClientKey == other.ClientKey && Fingerprints.SequenceEqual(other.Fingerprints);
}

/// <summary>The NMS could not be reached (down, refused, timed out, authentication failed): retry later.</summary>
internal class NmsUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The NMS presented a host key none of the profile's pinned fingerprints names.</summary>
internal sealed class NmsHostKeyChangedException(string message) : NmsUnreachableException(message);

/// <summary>The NMS received the file and refused to bookkeep it (its CLOSE status), with its reasons.</summary>
internal sealed class NmsRejectedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// One SFTP session to an NMS drop with SSH.NET, the NMS host key pinned and SSH.NET's algorithm lists pruned to
/// DESIGN.md's set (curve25519-sha256; ssh-ed25519, rsa-sha2-512/256, ecdsa host keys; aes-gcm, chacha20-poly1305,
/// aes-ctr; etm SHA-2 MACs): nothing with SHA-1, CBC or ssh-rsa signatures is ever offered.
/// </summary>
internal sealed class NmsSftpConnection : IDisposable
{
    private static readonly HashSet<string> KeyExchanges = ["curve25519-sha256"];

    private static readonly HashSet<string> HostKeyAlgorithms =
        ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"];

    private static readonly HashSet<string> Ciphers =
        ["aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr"];

    private static readonly HashSet<string> Macs = ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com"];

    private readonly SftpClient _client;
    private readonly ILogger _logger;
    private string? _presentedFingerprint;

    private NmsSftpConnection(HandoffTarget target, SftpClient client, ILogger logger)
    {
        Target = target;
        _client = client;
        _logger = logger;
    }

    public HandoffTarget Target { get; }

    public bool IsConnected => _client.IsConnected;

    public static async Task<NmsSftpConnection> OpenAsync(HandoffTarget target, TimeSpan connectTimeout, TimeSpan operationTimeout, ILogger logger,
        CancellationToken cancellationToken)
    {
        AuthenticationMethod authentication = target.Mode == CredentialMode.PublicKey
            ? new PrivateKeyAuthenticationMethod(target.Username,
                new PrivateKeyFile(new MemoryStream(Encoding.UTF8.GetBytes(target.ClientKey ?? throw new NmsUnreachableException("the profile has no client key")))))
            : new PasswordAuthenticationMethod(target.Username, target.Passphrase ?? throw new NmsUnreachableException("the profile has no passphrase"));
        var info = new ConnectionInfo(target.Host, target.Port, target.Username, authentication) { Timeout = connectTimeout };
        Prune(info);
        var client = new SftpClient(info) { OperationTimeout = operationTimeout, KeepAliveInterval = TimeSpan.FromSeconds(15) };
        var connection = new NmsSftpConnection(target, client, logger);
        client.HostKeyReceived += (_, e) => e.CanTrust = connection.Pinned(e.FingerPrintSHA256);
        try
        {
            await client.ConnectAsync(cancellationToken);
            return connection;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            connection.Dispose();
            if (connection._presentedFingerprint is { } presented)
            {
                logger.LogError("NMS host key changed: {Target} presented SHA256:{Presented}, which none of the {Count} pinned fingerprints names; refusing to upload",
                    target, presented, target.Fingerprints.Count);
                throw new NmsHostKeyChangedException($"NMS host key changed: {target} presented SHA256:{presented}");
            }

            throw new NmsUnreachableException($"cannot reach the NMS at {target}: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Uploads one file to <c>/incoming</c>. The drop answers CLOSE with OK only once the file is bookkept; a refusal is
    /// a failure status naming the reasons, which SSH.NET raises from the upload while the session stays up.
    /// </summary>
    public async Task UploadAsync(string name, byte[] content, CancellationToken cancellationToken)
    {
        try
        {
            using var stream = new MemoryStream(content, writable: false);
            await _client.UploadFileAsync(stream, $"/incoming/{name}", cancellationToken);
        }
        catch (SshException ex) when (ex is not SshConnectionException && ex is not SshOperationTimeoutException && _client.IsConnected)
        {
            throw new NmsRejectedException($"the NMS refused {name}: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new NmsUnreachableException($"upload of {name} to {Target} failed: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
        try
        {
            if (_client.IsConnected)
                _client.Disconnect();
        }
        catch (Exception ex) when (ex is SshException or IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            _logger.LogDebug(ex, "Disconnecting from {Target} failed", Target);
        }

        _client.Dispose();
    }

    /// <summary>The presented key's SHA-256 fingerprint equals one pinned for the profile (compared in constant time).</summary>
    private bool Pinned(string presentedBase64)
    {
        var presented = Encoding.ASCII.GetBytes("SHA256:" + presentedBase64);
        var match = false;
        foreach (var pinned in Target.Fingerprints)
            match |= CryptographicOperations.FixedTimeEquals(presented, Encoding.ASCII.GetBytes(pinned));
        if (!match)
            _presentedFingerprint = presentedBase64;
        return match;
    }

    internal static void Prune(ConnectionInfo info)
    {
        Keep(info.KeyExchangeAlgorithms, name => KeyExchanges.Contains(name) || name.StartsWith("kex-strict-", StringComparison.Ordinal));
        Keep(info.HostKeyAlgorithms, HostKeyAlgorithms.Contains);
        Keep(info.Encryptions, Ciphers.Contains);
        Keep(info.HmacAlgorithms, Macs.Contains);
        Keep(info.CompressionAlgorithms, name => name == "none");
    }

    private static void Keep<T>(IDictionary<string, T> algorithms, Func<string, bool> allowed)
    {
        foreach (var name in algorithms.Keys.Where(n => !allowed(n)).ToList())
            algorithms.Remove(name);
    }
}
