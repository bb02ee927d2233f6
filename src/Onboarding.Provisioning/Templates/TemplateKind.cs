namespace Onboarding.Provisioning.Templates;

/// <summary>How a template reaches the device.</summary>
internal enum TemplateKind
{
    /// <summary>An XML &lt;config&gt; body for edit-config (RFC 6241 §7.2), values XML-escaped when rendered.</summary>
    Netconf,

    /// <summary>CLI commands, one per line, each run as its own SSH exec request (RFC 4254 §6.5).</summary>
    Cli,
}

internal static class TemplateKinds
{
    public static string ToWire(this TemplateKind kind) => kind == TemplateKind.Netconf ? "netconf" : "cli";

    /// <summary>A stored kind: the table's check constraint allows only the two.</summary>
    public static TemplateKind FromStored(string value) =>
        TryParse(value, out var kind) ? kind : throw new InvalidOperationException($"Stored template kind '{value}' is neither netconf nor cli.");

    public static bool TryParse(string? value, out TemplateKind kind)
    {
        kind = value switch
        {
            "netconf" => TemplateKind.Netconf,
            "cli" => TemplateKind.Cli,
            _ => (TemplateKind)(-1),
        };
        return Enum.IsDefined(kind);
    }
}
