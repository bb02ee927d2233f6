namespace Onboarding.Sftp.Tests;

public class LongNameTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0x81a4u, "-rw-r--r-- ")]
    [InlineData(0x41edu, "drwxr-xr-x ")]
    [InlineData(0x43ffu, "drwxrwxrwt ")]
    [InlineData(0x89edu, "-rwsr-xr-x ")]
    public void Mode_matches_strmode(uint mode, string expected) => Assert.Equal(expected, SftpLongName.Mode(mode));

    [Fact]
    public void Setuid_setgid_without_execute_are_capitals()
    {
        Assert.Equal("-rwS--S--T ", SftpLongName.Mode(0x8000 | 0x800 | 0x400 | 0x200 | 0x180));
        Assert.Equal("lrwxrwxrwx ", SftpLongName.Mode(0xA1FF));
    }

    [Fact]
    public void Recent_file_shows_time_of_day()
    {
        var attrs = new SftpAttributes { Permissions = 0x81a4, Size = 3, UserId = 0, GroupId = 0, ModifyTime = (uint)Now.AddHours(-2).ToUnixTimeSeconds() };
        Assert.Equal("-rw-r--r--    1 root     root            3 Nov 21 10:00 a.txt",
            SftpLongName.Format("a.txt", attrs, 1, "root", "root", Now, TimeZoneInfo.Utc));
    }

    [Fact]
    public void Old_file_shows_the_year_and_numeric_ids_by_default()
    {
        var attrs = new SftpAttributes { Permissions = 0x41ed, Size = 4096, UserId = 1000, GroupId = 1000, ModifyTime = (uint)new DateTimeOffset(2020, 3, 4, 5, 6, 0, TimeSpan.Zero).ToUnixTimeSeconds() };
        Assert.Equal("drwxr-xr-x    2 1000     1000         4096 Mar  4  2020 sub",
            SftpLongName.Format("sub", attrs, 2, now: Now, timeZone: TimeZoneInfo.Utc));
    }
}
