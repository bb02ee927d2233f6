using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// Finds key material and secret-looking files among the files git tracks. Private keys belong in the key store
/// (KeyStore:Directory), and tests generate theirs.
/// </summary>
internal static partial class CommittedSecrets
{
    /// <summary>
    /// Key blocks that may be committed, by their base64 body, each with the reason. Only published test vectors belong here.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> AllowedKeyBodies = new Dictionary<string, string>
    {
        ["MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC"] =
            "RFC 8410 §10.3 example Ed25519 private key (a published test vector; tests/Onboarding.Ssh.Tests/KeysTests.cs checks its public key)",
    };

    /// <summary>
    /// A PEM private key (PKCS#1, PKCS#8, SEC1, encrypted, OpenSSH's own format): the BEGIN line followed by a line of base64,
    /// with real or escaped ("\n") line breaks and optional RFC 1421 headers. A source line naming only the header
    /// (a parser's constant) is not a key.
    /// </summary>
    [GeneratedRegex(@"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:\r?\n|(?:\\r)?\\n)(?:[A-Za-z-]+: [^\r\n\\]*(?:\r?\n|(?:\\r)?\\n))*(?:\r?\n|(?:\\r)?\\n)?(?<body>[A-Za-z0-9+/=]{16,})")]
    private static partial Regex PemPrivateKey();

    /// <summary>PuTTY's private key files carry no PEM armour.</summary>
    [GeneratedRegex(@"^PuTTY-User-Key-File-\d+: ", RegexOptions.Multiline)]
    private static partial Regex PuttyPrivateKey();

    /// <summary>The reasons a tracked file must not be committed (empty when it may).</summary>
    public static IEnumerable<string> Findings(string path, byte[] content)
    {
        var name = Path.GetFileName(path);
        var extension = Path.GetExtension(name).ToLowerInvariant();
        if (extension is ".key" or ".secret" or ".p12" or ".pfx" or ".jks" or ".keystore")
            yield return $"a {extension} file (secrets belong in the key store, not in git)";
        if (name is "id_rsa" or "id_dsa" or "id_ecdsa" or "id_ed25519" or "id_ecdsa_sk" or "id_ed25519_sk")
            yield return "an SSH identity (private key) file";
        if (name == ".env" || name.StartsWith(".env.", StringComparison.Ordinal))
            yield return "a .env file (environment secrets)";

        // Latin-1 maps every byte to one char, so binary files are searched too without decoding errors.
        var text = Encoding.Latin1.GetString(content);
        foreach (Match key in PemPrivateKey().Matches(text))
        {
            if (!AllowedKeyBodies.ContainsKey(key.Groups["body"].Value))
                yield return $"a private key at offset {key.Index} ({key.Value[..key.Value.IndexOf("-----", 5, StringComparison.Ordinal)].TrimStart('-')})";
        }

        if (PuttyPrivateKey().IsMatch(text))
            yield return "a PuTTY private key";
    }

    /// <summary>The repository root: the nearest directory above the test binaries that holds .git (a directory, or a file in a worktree).</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (Directory.Exists(Path.Combine(directory.FullName, ".git")) || File.Exists(Path.Combine(directory.FullName, ".git")))
                return directory.FullName;
        }

        throw new InvalidOperationException($"No git checkout above {AppContext.BaseDirectory}: this test checks what git tracks and needs a clone.");
    }

    /// <summary>Every path git tracks (the index, so a staged file counts before it is committed).</summary>
    public static IReadOnlyList<string> TrackedFiles(string root)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-c", "core.quotePath=false", "ls-files", "-z" })
            start.ArgumentList.Add(argument);
        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd();
        var error = git.StandardError.ReadToEnd();
        git.WaitForExit();
        if (git.ExitCode != 0)
            throw new InvalidOperationException($"git ls-files failed in {root}: {error}");
        return output.Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }
}
