using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.HostKeys.Contracts;
using Onboarding.ServiceDefaults.Keys;
using Onboarding.Ssh.Keys;

namespace Onboarding.HostKeys;

/// <summary>
/// Loads the NMS host keys from the key directory, generating any that are missing on first start.
/// Files use OpenSSH's own names and formats, so an operator can inspect them with ssh-keygen.
/// </summary>
internal sealed class NmsHostKeyStore : INmsHostKeys, IDisposable
{
    public NmsHostKeyStore(IOptions<HostKeysOptions> options, KeyStore keyStore, ILogger<NmsHostKeyStore> logger)
    {
        var directory = keyStore.PrivateDirectory(options.Value.Directory, HostKeysOptions.KeyStoreSubdirectory);

        Keys =
        [
            LoadOrCreate(Path.Combine(directory, "ssh_host_ed25519_key"), SshHostKey.GenerateEd25519, logger),
            LoadOrCreate(Path.Combine(directory, "ssh_host_rsa_key"), () => SshHostKey.GenerateRsa(options.Value.RsaBits), logger),
        ];
        Fingerprints = [.. Keys.Select(k => new HostKeyFingerprint(k.KeyType, k.PublicKey.Fingerprint, k.PublicKey.ToAuthorizedKeysLine()))];
    }

    public IReadOnlyList<SshHostKey> Keys { get; }

    public IReadOnlyList<HostKeyFingerprint> Fingerprints { get; }

    public void Dispose()
    {
        foreach (var key in Keys)
            key.Dispose();
    }

    private static SshHostKey LoadOrCreate(string path, Func<SshHostKey> generate, ILogger logger)
    {
        if (File.Exists(path))
        {
            var existing = SshHostKey.ParseOpenSshPrivateKey(File.ReadAllText(path));
            logger.LogInformation("Loaded NMS host key {Algorithm} {Fingerprint} from {Path}", existing.KeyType, existing.PublicKey.Fingerprint, path);
            return existing;
        }

        var key = generate();
        try
        {
            // CreateNew: when two hosts share the directory and start together, one writes and the other reads.
            KeyStore.WritePrivateFile(path, key.ToOpenSshPrivateKey("onboarding-nms"), FileMode.CreateNew);
            File.WriteAllText(path + ".pub", key.PublicKey.ToAuthorizedKeysLine("onboarding-nms") + "\n");
        }
        catch (IOException) when (File.Exists(path))
        {
            key.Dispose();
            return LoadOrCreate(path, generate, logger);
        }

        logger.LogInformation("Generated NMS host key {Algorithm} {Fingerprint} at {Path}", key.KeyType, key.PublicKey.Fingerprint, path);
        return key;
    }
}
