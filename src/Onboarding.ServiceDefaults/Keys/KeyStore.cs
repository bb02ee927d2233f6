using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Onboarding.ServiceDefaults.Keys;

/// <summary>
/// The one place private keys and secrets live: a directory only the service user can enter (0700), with one
/// subdirectory per owner (the NMS SSH host keys, the telemetry device CA, …) and private files written 0600.
/// Modules default their key directories to a subdirectory here and generate what is missing on first start.
/// </summary>
public sealed class KeyStore
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode PrivateFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _contentRoot;

    public KeyStore(IOptions<KeyStoreOptions> options, IHostEnvironment environment)
    {
        _contentRoot = environment.ContentRootPath;
        Directory = string.IsNullOrWhiteSpace(options.Value.Directory)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
                "onboarding", "keys")
            : Path.GetFullPath(options.Value.Directory, _contentRoot);
    }

    /// <summary>The key store's root directory (absolute).</summary>
    public string Directory { get; }

    /// <summary>
    /// The directory a module keeps its keys in: <paramref name="configured"/> when the operator set one (relative to the
    /// content root), otherwise <paramref name="defaultSubdirectory"/> of the key store. Created 0700 (and tightened to 0700
    /// if it already existed with wider permissions).
    /// </summary>
    public string PrivateDirectory(string? configured, string defaultSubdirectory)
    {
        if (string.IsNullOrWhiteSpace(defaultSubdirectory) || Path.IsPathRooted(defaultSubdirectory)
            || defaultSubdirectory.Split('/', '\\').Any(part => part is "" or "." or ".."))
            throw new ArgumentException($"'{defaultSubdirectory}' is not a plain subdirectory name of the key store", nameof(defaultSubdirectory));

        if (string.IsNullOrWhiteSpace(configured))
        {
            EnsurePrivateDirectory(Directory);
            return EnsurePrivateDirectory(Path.Combine(Directory, defaultSubdirectory));
        }

        return EnsurePrivateDirectory(Path.GetFullPath(configured, _contentRoot));
    }

    /// <summary>Creates the directory (and its parents) if missing and makes it 0700.</summary>
    public static string EnsurePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(path);
            return path;
        }

        System.IO.Directory.CreateDirectory(path, DirectoryMode);
        // CreateDirectory leaves an existing directory's mode alone; a key directory readable by others is a leak.
        if (File.GetUnixFileMode(path) != DirectoryMode)
            File.SetUnixFileMode(path, DirectoryMode);
        return path;
    }

    /// <summary>
    /// Writes a private file created 0600 from the start (never briefly world-readable). <see cref="FileMode.CreateNew"/>
    /// lets hosts sharing the store race on first start: one writes, the others get an <see cref="IOException"/> and read.
    /// </summary>
    public static void WritePrivateFile(string path, string content, FileMode mode = FileMode.CreateNew)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = PrivateFileMode;
        using var writer = new StreamWriter(new FileStream(path, options));
        writer.Write(content);
    }
}
