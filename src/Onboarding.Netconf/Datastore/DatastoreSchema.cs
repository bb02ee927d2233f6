using System.Xml.Linq;

namespace Onboarding.Netconf.Datastore;

/// <summary>
/// The little schema knowledge the in-memory datastore needs without YANG: which elements are list entries and which
/// child leaves are their keys (RFC 7950 §7.8.2), and which are leaf-lists (matched by value, §7.7). Every other element
/// is a container or leaf, matched by name alone.
/// </summary>
public sealed record DatastoreSchema
{
    public IReadOnlyDictionary<XName, IReadOnlyList<XName>> ListKeys { get; init; } = new Dictionary<XName, IReadOnlyList<XName>>();

    public IReadOnlySet<XName> LeafLists { get; init; } = new HashSet<XName>();

    public static DatastoreSchema Empty { get; } = new();
}
