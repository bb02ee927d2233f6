using System.Xml.Linq;

namespace Onboarding.Netconf.Messages;

/// <summary>
/// RFC 6241 §4.2 rpc-reply: <c>&lt;ok/&gt;</c>, <c>&lt;data&gt;</c>, or rpc-errors (warnings may come with ok or data).
/// <see cref="Element"/> is the whole reply, for operations whose output is neither.
/// </summary>
public sealed record RpcReply(string? MessageId, bool IsOk, XElement? Data, IReadOnlyList<RpcError> Errors, XElement Element)
{
    private const int MaxErrors = 1024;

    /// <summary>True when any rpc-error has severity error: the operation failed.</summary>
    public bool HasErrors => Errors.Any(e => e.Severity == RpcErrorSeverity.Error);

    public static RpcReply Parse(XElement root)
    {
        if (root.Name != NetconfXml.Base + "rpc-reply")
            throw new NetconfException(NetconfError.Protocol, $"expected <rpc-reply>, got <{root.Name.LocalName}> in '{root.Name.NamespaceName}'");
        var errors = root.Elements(NetconfXml.Base + "rpc-error").Take(MaxErrors + 1).Select(RpcError.Parse).ToList();
        if (errors.Count > MaxErrors)
            throw new NetconfException(NetconfError.TooLarge, $"rpc-reply with more than {MaxErrors} rpc-errors");
        return new RpcReply(
            root.Attribute("message-id")?.Value,
            root.Element(NetconfXml.Base + "ok") is not null,
            root.Element(NetconfXml.Base + "data"),
            errors,
            root);
    }
}

/// <summary>An operation answered with rpc-error(s) of severity error; <see cref="Errors"/> is what the device said.</summary>
public sealed class NetconfRpcException : Exception
{
    public NetconfRpcException(IReadOnlyList<RpcError> errors)
        : base("rpc-error: " + string.Join("; ", errors.Select(e => e.ToString()))) => Errors = errors;

    public NetconfRpcException(RpcError error) : this([error]) { }

    public NetconfRpcException() : this([]) { }

    public NetconfRpcException(string message) : base(message) => Errors = [];

    public NetconfRpcException(string message, Exception inner) : base(message, inner) => Errors = [];

    public IReadOnlyList<RpcError> Errors { get; }
}
