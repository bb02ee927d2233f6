using System.Text.RegularExpressions;
using System.Xml.Linq;
using Onboarding.Netconf.Messages;

namespace Onboarding.Provisioning.Apply;

/// <summary>
/// Is the rendered configuration in what get-config returned? Every element and leaf of the rendered config must exist
/// with the same value; the device may hold more (defaults, other lists entries). Without YANG we do not know list
/// keys, so a list entry matches any entry of that name that contains everything the rendered one holds. An element
/// marked <c>operation="delete"</c> or <c>"remove"</c> (RFC 6241 §7.2) must be absent. Differences are reported as
/// paths only: values may be secrets.
/// </summary>
internal static partial class ConfigVerification
{
    private static readonly XName Operation = NetconfXml.Base + "operation";

    /// <param name="expected">The rendered &lt;config&gt;.</param>
    /// <param name="actual">The &lt;data&gt; of get-config.</param>
    /// <returns>The paths (local names) that are missing or differ; empty when the configuration is present.</returns>
    public static IReadOnlyList<string> FindDifferences(XElement expected, XElement actual)
    {
        var differences = new List<string>();
        foreach (var element in expected.Elements())
            Check(element, actual, "", differences);
        return differences;
    }

    private static void Check(XElement expected, XElement actualParent, string path, List<string> differences)
    {
        var here = path + "/" + expected.Name.LocalName;
        var candidates = actualParent.Elements(expected.Name).ToList();
        if (IsRemoval(expected))
        {
            if (candidates.Any(c => Contains(c, expected)))
                differences.Add(here + " (still present)");
            return;
        }

        if (candidates.Any(c => Contains(c, expected)))
            return;
        if (candidates.Count == 0)
            differences.Add(here + " (missing)");
        else if (!expected.HasElements)
            differences.Add(here + " (different value)");
        else if (candidates.Count == 1)
        {
            // One candidate: point at the deepest part that differs rather than at the whole container.
            foreach (var child in expected.Elements())
                Check(child, candidates[0], here, differences);
        }
        else
            differences.Add(here + " (no entry matches)");
    }

    /// <summary>Does <paramref name="actual"/> hold everything <paramref name="expected"/> says (ignoring removals' targets)?</summary>
    private static bool Contains(XElement actual, XElement expected)
    {
        if (!expected.HasElements)
        {
            // An empty element (presence container, type empty, or a container given only to exist) matches by existence.
            var value = expected.Value.Trim();
            return value.Length == 0 || Canonical(expected, value) == Canonical(actual, actual.Value.Trim());
        }

        foreach (var child in expected.Elements())
        {
            var present = actual.Elements(child.Name).Any(c => Contains(c, child));
            if (present == IsRemoval(child))
                return false;
        }

        return true;
    }

    private static bool IsRemoval(XElement element) => (string?)element.Attribute(Operation) is "delete" or "remove";

    /// <summary>
    /// An identityref or instance-identifier-like value <c>prefix:name</c> is compared by namespace, not by prefix: the
    /// device may use another prefix for the same module (RFC 7950 §9.10.3).
    /// </summary>
    private static string Canonical(XElement element, string value)
    {
        var match = QualifiedName().Match(value);
        if (!match.Success)
            return value;
        var ns = element.GetNamespaceOfPrefix(match.Groups[1].Value);
        return ns is null ? value : "{" + ns.NamespaceName + "}" + match.Groups[2].Value;
    }

    [GeneratedRegex(@"^([A-Za-z_][A-Za-z0-9_.-]*):([A-Za-z_][A-Za-z0-9_.-]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex QualifiedName();
}
