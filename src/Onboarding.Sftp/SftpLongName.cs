using System.Globalization;
using System.Text;

namespace Onboarding.Sftp;

/// <summary>
/// The `ls -l` style long name of SSH_FXP_NAME (draft-ietf-secsh-filexfer-02 §7 suggests
/// `ls -l` output; this matches what OpenSSH's sftp-server prints, which OpenSSH's sftp client
/// shows verbatim for `ls -l`).
/// </summary>
public static class SftpLongName
{
    /// <summary>
    /// Formats "mode links user group size date name". <paramref name="user"/> and
    /// <paramref name="group"/> default to the numeric ids; dates within the last six months show
    /// the time of day, older or future ones the year, in <paramref name="timeZone"/> (default: local).
    /// </summary>
    public static string Format(string fileName, SftpAttributes attributes, ulong linkCount = 1, string? user = null, string? group = null, DateTimeOffset? now = null, TimeZoneInfo? timeZone = null)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(attributes);
        user ??= (attributes.UserId ?? 0).ToString(CultureInfo.InvariantCulture);
        group ??= (attributes.GroupId ?? 0).ToString(CultureInfo.InvariantCulture);
        var nowSeconds = (now ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        long mtimeSeconds = attributes.ModifyTime ?? 0;
        var mtime = TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeSeconds(mtimeSeconds), timeZone ?? TimeZoneInfo.Local);
        var recent = nowSeconds - (365 * 24 * 60 * 60) / 2 < mtimeSeconds && nowSeconds >= mtimeSeconds;
        var day = mtime.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2);
        var month = mtime.ToString("MMM", CultureInfo.InvariantCulture);
        var when = recent
            ? $"{month} {day} {mtime.ToString("HH:mm", CultureInfo.InvariantCulture)}"
            : $"{month} {day}  {mtime.Year.ToString(CultureInfo.InvariantCulture)}";
        return string.Create(CultureInfo.InvariantCulture,
            $"{Mode(attributes.Permissions ?? 0)} {linkCount,3} {user.PadRight(Math.Max(user.Length, 8))} {group.PadRight(Math.Max(group.Length, 8))} {attributes.Size ?? 0,8} {when} {fileName}");
    }

    /// <summary>BSD strmode(3): the type letter, nine permission characters, and a trailing space.</summary>
    public static string Mode(uint mode)
    {
        var sb = new StringBuilder(11);
        sb.Append((mode & 0xF000) switch
        {
            0x4000 => 'd',
            0xA000 => 'l',
            0x2000 => 'c',
            0x6000 => 'b',
            0x1000 => 'p',
            0xC000 => 's',
            _ => '-',
        });
        sb.Append((mode & 0x100) != 0 ? 'r' : '-');
        sb.Append((mode & 0x080) != 0 ? 'w' : '-');
        sb.Append(Execute((mode & 0x040) != 0, (mode & 0x800) != 0, 's'));
        sb.Append((mode & 0x020) != 0 ? 'r' : '-');
        sb.Append((mode & 0x010) != 0 ? 'w' : '-');
        sb.Append(Execute((mode & 0x008) != 0, (mode & 0x400) != 0, 's'));
        sb.Append((mode & 0x004) != 0 ? 'r' : '-');
        sb.Append((mode & 0x002) != 0 ? 'w' : '-');
        sb.Append(Execute((mode & 0x001) != 0, (mode & 0x200) != 0, 't'));
        sb.Append(' ');
        return sb.ToString();
    }

    private static char Execute(bool execute, bool special, char letter) => (execute, special) switch
    {
        (true, true) => letter,
        (false, true) => char.ToUpperInvariant(letter),
        (true, false) => 'x',
        _ => '-',
    };
}
