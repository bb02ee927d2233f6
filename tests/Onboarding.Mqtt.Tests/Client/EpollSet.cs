namespace Onboarding.Mqtt.Tests.Client;

/// <summary>
/// Linux: the file descriptors registered in this process's epoll instances (the "tfd:" lines of each eventpoll
/// descriptor's /proc/self/fdinfo), i.e. the sockets .NET's socket engine watches.
/// </summary>
internal static class EpollSet
{
    public static IReadOnlySet<long> Registered()
    {
        var registered = new HashSet<long>();
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }
            if (target != "anon_inode:[eventpoll]")
                continue;
            foreach (var line in File.ReadLines($"/proc/self/fdinfo/{Path.GetFileName(fd)}"))
            {
                // tfd:       42 events:       19 data: ...
                if (line.StartsWith("tfd:", StringComparison.Ordinal))
                    registered.Add(long.Parse(line["tfd:".Length..].TrimStart().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return registered;
    }
}
