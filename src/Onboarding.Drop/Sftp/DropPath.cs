using Onboarding.Sftp;

namespace Onboarding.Drop.Sftp;

internal enum DropFolder
{
    Root,
    Incoming,
    Processed,
    Rejected,
}

/// <summary>
/// A path inside a manufacturer's virtual drop: "/", one of its three folders, or a file in one of them.
/// Nothing maps to the host filesystem, so an absolute host path simply does not exist here; ".." and control
/// characters are refused outright rather than normalised, so that an attempt is visible in the logs.
/// </summary>
internal readonly record struct DropPath(DropFolder Folder, string? Name)
{
    public const int MaxNameLength = 128;

    public static SftpResult<DropPath> Resolve(string path)
    {
        if (path.Any(c => char.IsControl(c)))
            return SftpStatus.PermissionDenied("control characters are not allowed in paths");

        var segments = new List<string>(3);
        foreach (var segment in path.Split('/'))
        {
            if (segment is "" or ".")
                continue;
            if (segment == "..")
                return SftpStatus.PermissionDenied("'..' is not allowed: the drop has no parent directories");
            segments.Add(segment);
        }

        if (segments.Count == 0)
            return new DropPath(DropFolder.Root, null);
        DropFolder? folder = segments[0] switch
        {
            "incoming" => DropFolder.Incoming,
            "processed" => DropFolder.Processed,
            "rejected" => DropFolder.Rejected,
            _ => null,
        };
        if (folder is null || segments.Count > 2)
            return SftpStatus.NoSuchFile($"no such file or directory: {path} (the drop has /incoming, /processed and /rejected)");
        return new DropPath(folder.Value, segments.Count == 2 ? segments[1] : null);
    }

    /// <summary>Upload names: letters, digits, '.', '_' and '-', not starting with '.', at most 128 characters.</summary>
    public static bool IsValidUploadName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name[0] != '.' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    public override string ToString() => Folder == DropFolder.Root ? "/" : Name is null ? $"/{Folder.ToString().ToLowerInvariant()}" : $"/{Folder.ToString().ToLowerInvariant()}/{Name}";
}
