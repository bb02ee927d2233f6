namespace Onboarding.Sztp;

/// <summary>The progress-type enumeration of report-progress (RFC 8572 §7.3), in the module's order.</summary>
public enum ProgressType
{
    BootstrapInitiated,
    ParsingInitiated,
    ParsingWarning,
    ParsingError,
    ParsingComplete,
    BootImageInitiated,
    BootImageWarning,
    BootImageError,
    BootImageMismatch,
    BootImageInstalledRebooting,
    BootImageComplete,
    PreScriptInitiated,
    PreScriptWarning,
    PreScriptError,
    PreScriptComplete,
    ConfigInitiated,
    ConfigWarning,
    ConfigError,
    ConfigComplete,
    PostScriptInitiated,
    PostScriptWarning,
    PostScriptError,
    PostScriptComplete,
    BootstrapWarning,
    BootstrapError,
    BootstrapComplete,
    Informational,
}

/// <summary>The YANG names of <see cref="ProgressType"/> (kebab-case enum names).</summary>
public static class ProgressTypes
{
    private static readonly Dictionary<string, ProgressType> ByName =
        Enum.GetValues<ProgressType>().ToDictionary(Name, StringComparer.Ordinal);

    public static string Name(ProgressType type) =>
        string.Concat(type.ToString().Select((c, i) => char.IsUpper(c) ? (i == 0 ? "" : "-") + char.ToLowerInvariant(c) : c.ToString()));

    public static ProgressType? Parse(string name) => ByName.TryGetValue(name, out var type) ? type : null;
}
