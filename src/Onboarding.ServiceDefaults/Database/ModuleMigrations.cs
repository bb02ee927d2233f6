using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Onboarding.ServiceDefaults.Database;

/// <summary>
/// The hand-written, versioned SQL migrations of one module: embedded resources named
/// <c>Migrations/NNNN_description.sql</c> in the module's assembly. Each module owns one schema.
/// </summary>
public sealed class ModuleMigrations
{
    public ModuleMigrations(string module, Assembly assembly)
        : this(module, LoadScripts(assembly))
    {
    }

    public ModuleMigrations(string module, IReadOnlyList<MigrationScript> scripts)
    {
        Module = module;
        Scripts = scripts;
    }

    /// <summary>The same module with only the scripts up to <paramref name="version"/>: a database as an older release left it.</summary>
    public ModuleMigrations Until(int version) => new(Module, [.. Scripts.Where(s => s.Version <= version)]);

    public string Module { get; }

    public IReadOnlyList<MigrationScript> Scripts { get; }

    private static List<MigrationScript> LoadScripts(Assembly assembly)
    {
        var scripts = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            // Resource names look like "<Assembly>.Migrations.0001_create_accounts.sql".
            var marker = resource.IndexOf(".Migrations.", StringComparison.Ordinal);
            if (marker < 0 || !resource.EndsWith(".sql", StringComparison.Ordinal))
                continue;
            var fileName = resource[(marker + ".Migrations.".Length)..^".sql".Length];
            var underscore = fileName.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(fileName.AsSpan(0, underscore), out var version))
                throw new InvalidOperationException($"Migration resource '{resource}' must be named NNNN_description.sql.");

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var sql = reader.ReadToEnd();
            scripts.Add(new MigrationScript(version, fileName[(underscore + 1)..], sql,
                Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql.ReplaceLineEndings("\n"))))));
        }

        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < scripts.Count; i++)
        {
            if (scripts[i].Version == scripts[i - 1].Version)
                throw new InvalidOperationException($"Two migrations share version {scripts[i].Version}.");
        }

        return scripts;
    }
}

public sealed record MigrationScript(int Version, string Name, string Sql, string Checksum);
