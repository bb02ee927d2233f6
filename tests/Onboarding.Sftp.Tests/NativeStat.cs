using System.Runtime.InteropServices;

namespace Onboarding.Sftp.Tests;

/// <summary>lstat(2) through glibc on Linux x86-64, for the fields .NET does not expose (uid, gid, nlink).</summary>
internal static class NativeStat
{
    internal readonly record struct Stat(ulong NLink, uint Mode, uint Uid, uint Gid, long Size, long ATime, long MTime)
    {
        public bool IsSymbolicLink => (Mode & 0xF000) == 0xA000;

        public SftpAttributes ToAttributes() => new()
        {
            Size = (ulong)Size,
            UserId = Uid,
            GroupId = Gid,
            Permissions = Mode,
            AccessTime = (uint)ATime,
            ModifyTime = (uint)MTime,
        };
    }

    public static bool TryLStat(string path, out Stat stat)
    {
        // struct stat on x86-64 glibc is 144 bytes; offsets from <bits/struct_stat.h>.
        var buffer = new byte[144];
        if (NativeMethods.lstat(path, buffer) != 0)
        {
            stat = default;
            return false;
        }

        var span = buffer.AsSpan();
        stat = new Stat(
            BitConverter.ToUInt64(span[16..]),
            BitConverter.ToUInt32(span[24..]),
            BitConverter.ToUInt32(span[28..]),
            BitConverter.ToUInt32(span[32..]),
            BitConverter.ToInt64(span[48..]),
            BitConverter.ToInt64(span[72..]),
            BitConverter.ToInt64(span[88..]));
        return true;
    }

    private static class NativeMethods
    {
#pragma warning disable SYSLIB1054, CA5392, CA1401 // Test-only P/Invoke; LibraryImport would need unsafe code for no benefit here.
        [DllImport("libc.so.6", SetLastError = true)]
        internal static extern int lstat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);
#pragma warning restore SYSLIB1054, CA5392, CA1401
    }
}
