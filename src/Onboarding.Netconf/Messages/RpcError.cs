using System.Xml.Linq;

namespace Onboarding.Netconf.Messages;

/// <summary>RFC 6241 §4.3 error-type.</summary>
public enum RpcErrorType
{
    Transport,
    Rpc,
    Protocol,
    Application,
}

/// <summary>RFC 6241 §4.3 error-severity (the RFC notes "warning" is not used yet; devices send it anyway).</summary>
public enum RpcErrorSeverity
{
    Error,
    Warning,
}

/// <summary>
/// One RFC 6241 §4.3 rpc-error. Tag is kept as the string the device sent (Appendix A lists the standard ones, e.g.
/// "in-use", "invalid-value", "data-exists"); <see cref="Info"/> is the raw error-info element.
/// </summary>
public sealed record RpcError(
    RpcErrorType Type,
    string Tag,
    RpcErrorSeverity Severity,
    string? AppTag = null,
    string? Path = null,
    string? Message = null,
    XElement? Info = null)
{
    public XElement ToXml()
    {
        var ns = NetconfXml.Base;
        var e = new XElement(ns + "rpc-error",
            new XElement(ns + "error-type", TypeName(Type)),
            new XElement(ns + "error-tag", Tag),
            new XElement(ns + "error-severity", Severity == RpcErrorSeverity.Error ? "error" : "warning"));
        if (AppTag is not null)
            e.Add(new XElement(ns + "error-app-tag", AppTag));
        if (Path is not null)
            e.Add(new XElement(ns + "error-path", Path));
        if (Message is not null)
            e.Add(new XElement(ns + "error-message", new XAttribute(XNamespace.Xml + "lang", "en"), Message));
        if (Info is not null)
            e.Add(Info.Name == ns + "error-info" ? Info : new XElement(ns + "error-info", Info));
        return e;
    }

    public static RpcError Parse(XElement element)
    {
        var ns = NetconfXml.Base;
        string Required(string name) => element.Element(ns + name)?.Value.Trim()
            ?? throw new NetconfException(NetconfError.Protocol, $"rpc-error without <{name}> (RFC 6241 §4.3)");
        var type = Required("error-type") switch
        {
            "transport" => RpcErrorType.Transport,
            "rpc" => RpcErrorType.Rpc,
            "protocol" => RpcErrorType.Protocol,
            "application" => RpcErrorType.Application,
            var other => throw new NetconfException(NetconfError.Protocol, $"unknown error-type '{Truncate(other)}'"),
        };
        var severity = Required("error-severity") switch
        {
            "error" => RpcErrorSeverity.Error,
            "warning" => RpcErrorSeverity.Warning,
            var other => throw new NetconfException(NetconfError.Protocol, $"unknown error-severity '{Truncate(other)}'"),
        };
        return new RpcError(
            type,
            Required("error-tag"),
            severity,
            element.Element(ns + "error-app-tag")?.Value.Trim(),
            element.Element(ns + "error-path")?.Value.Trim(),
            element.Element(ns + "error-message")?.Value.Trim(),
            element.Element(ns + "error-info"));
    }

    public override string ToString() =>
        $"{TypeName(Type)}/{Tag}" + (Message is null ? "" : $": {Message}") + (Path is null ? "" : $" at {Path}");

    private static string TypeName(RpcErrorType type) => type switch
    {
        RpcErrorType.Transport => "transport",
        RpcErrorType.Rpc => "rpc",
        RpcErrorType.Protocol => "protocol",
        _ => "application",
    };

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
