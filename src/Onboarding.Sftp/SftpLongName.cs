using System.Globalization;

namespace Onboarding.Sftp;

/// <summary>
/// The `ls -l` style long name of an SSH_FXP_NAME entry (draft-ietf-secsh-filexfer-02 §7 leaves the format to the
/// server). OpenSSH's sftp client prints it verbatim, so we use the same layout as OpenSSH's sftp-server:
/// <c>mode nlink owner group size date name</c>, with "%b %e %H:%M" for recent files and "%b %e  %Y" otherwise.
/// </summary>
public static class SftpLongName
{
    public static string Format(string name, SftpAttributes attributes, string owner, string group, DateTimeOffset now)
    {
        var permissions = attributes.Permissions ?? 0;
        var links = attributes.IsDirectory ? 2 : 1;
        var modified = attributes.ModifyTimeUtc ?? DateTimeOffset.UnixEpoch;
        var local = modified.ToLocalTime();
        var recent = (now - modified).Duration() < TimeSpan.FromDays(365 / 2.0);
        var date = recent
            ? local.ToString("MMM ", CultureInfo.InvariantCulture) + local.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2) + local.ToString(" HH:mm", CultureInfo.InvariantCulture)
            : local.ToString("MMM ", CultureInfo.InvariantCulture) + local.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2) + "  " + local.Year.ToString(CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Mode(permissions)} {links,3} {Truncate(owner),-8} {Truncate(group),-8} {attributes.Size ?? 0,8} {date} {name}");
    }

    private static string Truncate(string value) => value.Length > 8 ? value[..8] : value;

    private static string Mode(uint permissions)
    {
        var type = (permissions & 0xF000) switch
        {
            0x4000 => 'd',
            0xA000 => 'l',
            0x2000 => 'c',
            0x6000 => 'b',
            0x1000 => 'p',
            0xC000 => 's',
            _ => '-',
        };
        Span<char> mode = stackalloc char[10];
        mode[0] = type;
        const string letters = "rwxrwxrwx";
        for (var i = 0; i < 9; i++)
            mode[i + 1] = (permissions & (1u << (8 - i))) != 0 ? letters[i] : '-';
        return new string(mode);
    }
}
