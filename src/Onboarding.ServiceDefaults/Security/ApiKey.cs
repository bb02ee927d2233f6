using System.Security.Cryptography;
using System.Text;

namespace Onboarding.ServiceDefaults.Security;

/// <summary>
/// An API key: <c>{prefix}{id}_{secret}</c>. The id (12 characters) finds the row; the whole key is stored only as
/// SHA-256. A fast hash is right here because the key carries 256 bits of entropy, so there is nothing to brute-force;
/// passphrases, which are typed by people, get a slow hash instead. The prefix tells whose key it is (a customer's
/// NMS key <c>onb_</c>, a manufacturer's redirect-server key <c>rdr_</c>), so one is never mistaken for the other.
/// </summary>
public readonly record struct ApiKey(string Id, string Value)
{
    private const int IdLength = 12;
    private const int SecretLength = 43; // 32 bytes, base64url without padding

    public static ApiKey Generate(string prefix)
    {
        var id = RandomText(9);      // 72 bits: unique enough to index, not secret
        var secret = RandomText(32); // 256 bits
        return new ApiKey(id, $"{prefix}{id}_{secret}");
    }

    public static bool TryParseId(string prefix, string presented, out string id)
    {
        id = "";
        if (presented.Length != prefix.Length + IdLength + 1 + SecretLength || !presented.StartsWith(prefix, StringComparison.Ordinal)
            || presented[prefix.Length + IdLength] != '_')
            return false;
        id = presented.Substring(prefix.Length, IdLength);
        return true;
    }

    public static byte[] Hash(string presented) => SHA256.HashData(Encoding.UTF8.GetBytes(presented));

    public static bool Matches(string presented, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(presented), storedHash);

    private static string RandomText(int bytes) =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
