using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Onboarding.Accounts.Security;

/// <summary>
/// Generates manufacturer passphrases and stores them as salted PBKDF2-HMAC-SHA512. The stored form names
/// its algorithm and cost (<c>pbkdf2-sha512$210000$salt$hash</c>), so the cost can be raised later without
/// invalidating existing passphrases.
/// </summary>
internal static class PassphraseHasher
{
    // OWASP's 2023 recommendation for PBKDF2-HMAC-SHA512.
    private const int Iterations = 210_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;
    private const string Algorithm = "pbkdf2-sha512";

    /// <summary>32 characters of base64url: 192 bits, readable and safe to paste into any SFTP client.</summary>
    public static string GeneratePassphrase() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    public static string Hash(string passphrase)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Derive(passphrase, salt, Iterations);
        return string.Join('$', Algorithm, Iterations.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(salt), Convert.ToBase64String(hash));
    }

    public static bool Verify(string passphrase, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != Algorithm || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var iterations))
            return false;
        var expected = Convert.FromBase64String(parts[3]);
        var actual = Derive(passphrase, Convert.FromBase64String(parts[2]), iterations);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>A stored hash that matches nothing, verified when the user is unknown so timing does not reveal which usernames exist.</summary>
    public static readonly string Decoy = Hash(GeneratePassphrase());

    private static byte[] Derive(string passphrase, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(passphrase), salt, iterations, HashAlgorithmName.SHA512, HashBytes);
}
