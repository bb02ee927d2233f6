using System.Xml.Linq;
using Onboarding.Netconf.Messages;

namespace Onboarding.Netconf.Datastore;

/// <summary>
/// RFC 6241 §7.2 edit-config applied to an element tree. Supported: operation attributes merge, replace, create,
/// delete, remove at any level below a merge or none; default-operation merge, replace, none. Refused with
/// operation-not-supported: operation attributes nested inside a create or replace subtree with a different operation
/// (the RFC allows them, their semantics are not implemented here). The caller applies this to a copy, so any error
/// leaves the datastore as it was (effectively error-option rollback-on-error).
/// </summary>
internal sealed class EditConfig(DatastoreSchema schema)
{
    private static readonly XName OperationAttribute = NetconfXml.Base + "operation";

    public void Apply(XElement root, XElement config, DefaultOperation defaultOperation)
    {
        if (defaultOperation == DefaultOperation.Replace)
        {
            // "The new configuration in the <config> parameter completely replaces the configuration in the target."
            root.RemoveNodes();
            ApplyChildren(root, config, EditOperation.Replace, "");
            return;
        }
        ApplyChildren(root, config, defaultOperation == DefaultOperation.None ? EditOperation.None : EditOperation.Merge, "");
    }

    private void ApplyChildren(XElement target, XElement edit, EditOperation inherited, string parentPath)
    {
        foreach (var e in edit.Elements().ToList())
        {
            var op = OperationOf(e) ?? inherited;
            var path = $"{parentPath}/{e.Name.LocalName}";
            var match = FindMatch(target, e, path);
            var isLeaf = !e.HasElements;
            switch (op)
            {
                case EditOperation.Merge:
                    if (isLeaf)
                    {
                        if (match is null)
                            target.Add(Strip(e, op, path));
                        else
                            match.Value = e.Value;
                        break;
                    }
                    if (match is null)
                    {
                        match = new XElement(e.Name, e.Attributes().Where(a => a.Name != OperationAttribute && !a.IsNamespaceDeclaration));
                        target.Add(match);
                    }
                    ApplyChildren(match, e, EditOperation.Merge, path);
                    break;
                case EditOperation.Replace:
                    if (match is null)
                        target.Add(Strip(e, op, path));
                    else
                        match.ReplaceWith(Strip(e, op, path));
                    break;
                case EditOperation.Create:
                    if (match is not null)
                        throw Error("data-exists", path, "create: the data already exists");
                    target.Add(Strip(e, op, path));
                    break;
                case EditOperation.Delete:
                    if (match is null)
                        throw Error("data-missing", path, "delete: the data does not exist");
                    match.Remove();
                    break;
                case EditOperation.Remove:
                    match?.Remove();
                    break;
                case EditOperation.None:
                    if (isLeaf)
                        break; // a leaf under "none" only identifies (list keys); it changes nothing
                    if (match is null)
                        throw Error("data-missing", path, "default-operation none: no corresponding level in the target");
                    ApplyChildren(match, e, EditOperation.None, path);
                    break;
            }
        }
    }

    /// <summary>Same name and, for a list entry, equal keys; for a leaf-list entry, equal value.</summary>
    private XElement? FindMatch(XElement target, XElement e, string path)
    {
        if (schema.ListKeys.TryGetValue(e.Name, out var keys))
        {
            var wanted = keys.Select(k => e.Element(k)?.Value.Trim()
                ?? throw Error("missing-element", path, $"list entry without its key '{k.LocalName}'", RpcErrorType.Protocol)).ToList();
            return target.Elements(e.Name).FirstOrDefault(c =>
                keys.Select((k, i) => c.Element(k)?.Value.Trim() == wanted[i]).All(x => x));
        }
        if (schema.LeafLists.Contains(e.Name))
            return target.Elements(e.Name).FirstOrDefault(c => c.Value.Trim() == e.Value.Trim());
        return target.Element(e.Name);
    }

    private static EditOperation? OperationOf(XElement e)
    {
        if (e.Attribute(OperationAttribute) is not { } attribute)
            return null;
        return attribute.Value.Trim() switch
        {
            "merge" => EditOperation.Merge,
            "replace" => EditOperation.Replace,
            "create" => EditOperation.Create,
            "delete" => EditOperation.Delete,
            "remove" => EditOperation.Remove,
            _ => throw Error("bad-attribute", "/" + e.Name.LocalName, $"unknown operation '{Truncate(attribute.Value)}'", RpcErrorType.Protocol),
        };
    }

    /// <summary>A copy without operation attributes; a nested operation other than the outer one is refused.</summary>
    private static XElement Strip(XElement e, EditOperation outer, string path)
    {
        var copy = new XElement(e);
        foreach (var element in copy.DescendantsAndSelf())
        {
            var nested = OperationOf(element);
            if (nested is { } n && n != outer && element != copy)
                throw Error("operation-not-supported", path, $"operation '{n.ToString().ToLowerInvariant()}' nested inside '{outer.ToString().ToLowerInvariant()}' is not supported by this datastore", RpcErrorType.Protocol);
            element.Attribute(OperationAttribute)?.Remove();
        }
        return copy;
    }

    internal static NetconfRpcException Error(string tag, string path, string message, RpcErrorType type = RpcErrorType.Application) =>
        new(new RpcError(type, tag, RpcErrorSeverity.Error, Path: path.Length == 0 ? "/" : path, Message: message));

    private static string Truncate(string value) => value.Length <= 32 ? value : value[..32] + "…";
}
