using System.Security.Cryptography;
using System.Text;

namespace Onboarding.Accounts.Security;

/// <summary>
/// A customer's API key: <c>onb_{id}_{secret}</c>. The id (12 characters) finds the row; the whole key is
/// stored only as SHA-256. A fast hash is right here because the key carries 256 bits of entropy,
/// so there is nothing to brute-force; passphrases, which are typed by people, get a slow hash instead.
/// </summary>
internal readonly record struct ApiKey(string Id, string Value)
{
    private const string Prefix = "onb_";
    private const int IdLength = 12;

    public static ApiKey Generate()
    {
        var id = RandomText(9);      // 72 bits: unique enough to index, not secret
        var secret = RandomText(32); // 256 bits
        return new ApiKey(id, $"{Prefix}{id}_{secret}");
    }

    public static bool TryParseId(string presented, out string id)
    {
        id = "";
        if (presented.Length != Prefix.Length + IdLength + 1 + 43 || !presented.StartsWith(Prefix, StringComparison.Ordinal)
            || presented[Prefix.Length + IdLength] != '_')
            return false;
        id = presented.Substring(Prefix.Length, IdLength);
        return true;
    }

    public static byte[] Hash(string presented) => SHA256.HashData(Encoding.UTF8.GetBytes(presented));

    public static bool Matches(string presented, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(presented), storedHash);

    private static string RandomText(int bytes) =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
