using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Inventory.Contracts;
using Onboarding.NmsBootstrap.Contracts;
using Onboarding.ServiceDefaults.Keys;
using Onboarding.Ssh.Keys;

namespace Onboarding.NmsBootstrap.Identity;

/// <summary>
/// Loads the NMS call-home client key and the outbound-ssh master key from the key store's <c>nms-identity/</c> (the
/// directory of the NMS's RFC 8572 identities, <c>NmsIdentity:Directory</c> when set), generating them on first
/// start. The client key is an OpenSSH private key file (inspectable with ssh-keygen); the master key is 32 random bytes.
/// </summary>
internal sealed class NmsCallHomeIdentity : INmsCallHomeIdentity, IDisposable
{
    public const string ClientKeyFileName = "call-home_ed25519_key";
    public const string MasterKeyFileName = "outbound-ssh-secret.key";
    private const string KeyStoreSubdirectory = "nms-identity";
    private const string Comment = "onboarding-nms-call-home";

    // Domain separation: the master key derives nothing else, but a label keeps a future second use from colliding.
    private static readonly byte[] SecretLabel = "onboarding outbound-ssh device secret v1:"u8.ToArray();
    private readonly byte[] _masterKey;

    public NmsCallHomeIdentity(KeyStore keyStore, IConfiguration configuration, IOptions<NmsBootstrapOptions> options,
        ILogger<NmsCallHomeIdentity> logger)
    {
        var directory = keyStore.PrivateDirectory(configuration["NmsIdentity:Directory"], KeyStoreSubdirectory);
        ClientKey = LoadOrCreateClientKey(Path.Combine(directory, ClientKeyFileName), logger);
        _masterKey = LoadOrCreateMasterKey(Path.Combine(directory, MasterKeyFileName), logger);
        UserName = options.Value.Bootstrap.CallHomeUser;
        PublicKeyLine = ClientKey.PublicKey.ToAuthorizedKeysLine(Comment);
    }

    public SshHostKey ClientKey { get; }

    public string PublicKeyLine { get; }

    public string UserName { get; }

    public string DeviceSecret(DeviceId deviceId)
    {
        Span<byte> message = stackalloc byte[SecretLabel.Length + 16];
        SecretLabel.CopyTo(message);
        deviceId.Value.TryWriteBytes(message[SecretLabel.Length..], bigEndian: true, out _);
        return Convert.ToHexStringLower(HMACSHA256.HashData(_masterKey, message));
    }

    public void Dispose()
    {
        ClientKey.Dispose();
        CryptographicOperations.ZeroMemory(_masterKey);
    }

    private static SshHostKey LoadOrCreateClientKey(string path, ILogger logger)
    {
        if (File.Exists(path))
            return SshHostKey.ParseOpenSshPrivateKey(File.ReadAllText(path));
        var key = SshHostKey.GenerateEd25519();
        try
        {
            // CreateNew: of hosts sharing the store that start together, one writes and the others read its key.
            // No .pub beside it: every file in nms-identity/ is private (0600); ssh-keygen -y derives the public key.
            KeyStore.WritePrivateFile(path, key.ToOpenSshPrivateKey(Comment), FileMode.CreateNew);
        }
        catch (IOException) when (File.Exists(path))
        {
            key.Dispose();
            return SshHostKey.ParseOpenSshPrivateKey(File.ReadAllText(path));
        }

        logger.LogInformation("Generated the NMS call-home client key {Fingerprint} at {Path}", key.PublicKey.Fingerprint, path);
        return key;
    }

    private static byte[] LoadOrCreateMasterKey(string path, ILogger logger)
    {
        if (!File.Exists(path))
        {
            try
            {
                KeyStore.WritePrivateFile(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\n", FileMode.CreateNew);
                logger.LogInformation("Generated the outbound-ssh device secret master key at {Path}", path);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another host sharing the store wrote it first; read theirs.
            }
        }

        var key = Convert.FromBase64String(File.ReadAllText(path, Encoding.ASCII).Trim());
        return key.Length >= 32 ? key : throw new InvalidOperationException($"{path} must hold at least 32 bytes of base64 key material.");
    }
}
