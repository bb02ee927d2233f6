using System.Xml.Linq;
using Onboarding.Netconf.Messages;

namespace Onboarding.Netconf.Datastore;

/// <summary>
/// RFC 6241 §6 subtree filtering, the basics: containment nodes (§6.2.3), selection nodes (§6.2.4, an empty leaf),
/// content match nodes (§6.2.5, a leaf with text; all siblings must match, and with no other siblings the whole parent
/// is selected), attribute match expressions (§6.2.2). A filter element without a namespace matches any namespace.
/// An empty filter selects nothing (§6.4.2).
/// </summary>
internal static class SubtreeFilter
{
    public static IEnumerable<XElement> Apply(XElement dataRoot, XElement filter)
    {
        var output = new List<XElement>();
        foreach (var f in filter.Elements())
        {
            foreach (var d in dataRoot.Elements().Where(d => NameMatches(d, f)))
            {
                if (Select(d, f) is { } selected)
                    output.Add(selected);
            }
        }
        return output;
    }

    private static XElement? Select(XElement data, XElement filter)
    {
        if (!AttributesMatch(data, filter))
            return null;
        var children = filter.Elements().ToList();
        if (children.Count == 0)
            return new XElement(data); // selection node
        var contentMatches = children.Where(IsContentMatch).ToList();
        foreach (var cm in contentMatches)
        {
            if (!data.Elements().Any(d => NameMatches(d, cm) && d.Value.Trim() == cm.Value.Trim()))
                return null;
        }
        var others = children.Except(contentMatches).ToList();
        if (others.Count == 0)
            return new XElement(data); // only content matches, all true: the whole parent
        var result = new XElement(data.Name, data.Attributes());
        foreach (var cm in contentMatches)
            result.Add(data.Elements().Where(d => NameMatches(d, cm) && d.Value.Trim() == cm.Value.Trim()).Select(d => new XElement(d)));
        var selectedAny = false;
        foreach (var f in others)
        {
            foreach (var d in data.Elements().Where(d => NameMatches(d, f)))
            {
                if (Select(d, f) is { } s)
                {
                    result.Add(s);
                    selectedAny = true;
                }
            }
        }
        // A containment node none of whose descendants was selected is not in the output (§6.2.3), unless content
        // match nodes selected this entry.
        return selectedAny || contentMatches.Count > 0 ? result : null;
    }

    private static bool IsContentMatch(XElement f) => !f.HasElements && !string.IsNullOrWhiteSpace(f.Value);

    private static bool NameMatches(XElement data, XElement filter) =>
        data.Name.LocalName == filter.Name.LocalName
        && (filter.Name.Namespace == XNamespace.None || data.Name.Namespace == filter.Name.Namespace);

    private static bool AttributesMatch(XElement data, XElement filter) =>
        filter.Attributes()
            .Where(a => !a.IsNamespaceDeclaration && a.Name.Namespace != NetconfXml.Base)
            .All(a => data.Attribute(a.Name)?.Value == a.Value);
}
