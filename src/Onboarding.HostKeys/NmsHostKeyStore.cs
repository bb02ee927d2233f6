using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.HostKeys.Contracts;
using Onboarding.Ssh.Keys;

namespace Onboarding.HostKeys;

/// <summary>
/// Loads the NMS host keys from the key directory, generating any that are missing on first start.
/// Files use OpenSSH's own names and formats, so an operator can inspect them with ssh-keygen.
/// </summary>
internal sealed class NmsHostKeyStore : INmsHostKeys, IDisposable
{
    private const UnixFileMode PrivateKeyMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public NmsHostKeyStore(IOptions<HostKeysOptions> options, IHostEnvironment environment, ILogger<NmsHostKeyStore> logger)
    {
        var directory = Path.GetFullPath(options.Value.Directory, environment.ContentRootPath);
        System.IO.Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

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
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                fileOptions.UnixCreateMode = PrivateKeyMode;
            using (var writer = new StreamWriter(new FileStream(path, fileOptions)))
                writer.Write(key.ToOpenSshPrivateKey("onboarding-nms"));
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
