using System.Xml.Linq;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.Messages;

namespace Onboarding.Netconf.Tests;

/// <summary>RFC 6241 §7.2 edit-config and §6 subtree filtering on the in-memory datastore.</summary>
public class DatastoreTests
{
    internal static readonly XNamespace T = "http://example.com/schema/1.2/config";
    private static readonly XName Operation = NetconfXml.Base + "operation";

    internal static DatastoreSchema Schema => new()
    {
        ListKeys = new Dictionary<XName, IReadOnlyList<XName>> { [T + "interface"] = [T + "name"], [T + "user"] = [T + "name"] },
        LeafLists = new HashSet<XName> { T + "dns-server" },
    };

    private static XElement Config(params object[] content) => new(NetconfXml.Base + "config", content);

    private static XElement Interface(string name, int mtu, params object[] extra) =>
        new(T + "interface", new XElement(T + "name", name), new XElement(T + "mtu", mtu), extra);

    private static XElement Top(params object[] content) => new(T + "top", content);

    private static InMemoryDatastore WithTwoInterfaces()
    {
        var store = new InMemoryDatastore(Schema);
        store.EditConfig(DatastoreName.Running, Config(Top(Interface("Ethernet0/0", 1500), Interface("Ethernet1/0", 1500))));
        return store;
    }

    private static string? Mtu(InMemoryDatastore store, string name, DatastoreName ds = DatastoreName.Running) =>
        store.Snapshot(ds).Descendants(T + "interface").FirstOrDefault(i => i.Element(T + "name")!.Value == name)?.Element(T + "mtu")?.Value;

    [Fact]
    public void Merge_changes_the_keyed_list_entry_only()
    {
        // RFC 6241 §7.2's first example: set the MTU of Ethernet0/0 to 1500 → here 9000.
        var store = WithTwoInterfaces();
        store.EditConfig(DatastoreName.Running, Config(Top(new XElement(T + "interface", new XElement(T + "name", "Ethernet0/0"), new XElement(T + "mtu", 9000)))));
        Assert.Equal("9000", Mtu(store, "Ethernet0/0"));
        Assert.Equal("1500", Mtu(store, "Ethernet1/0"));
        Assert.Equal(2, store.Snapshot(DatastoreName.Running).Descendants(T + "interface").Count());
    }

    [Fact]
    public void Merge_adds_a_new_list_entry_and_leaf()
    {
        var store = WithTwoInterfaces();
        store.EditConfig(DatastoreName.Running, Config(Top(Interface("Ethernet2/0", 1400, new XElement(T + "description", "uplink")))));
        Assert.Equal("1400", Mtu(store, "Ethernet2/0"));
        Assert.Equal("uplink", store.Snapshot(DatastoreName.Running).Descendants(T + "description").Single().Value);
    }

    [Fact]
    public void Replace_swaps_the_whole_subtree()
    {
        var store = WithTwoInterfaces();
        store.EditConfig(DatastoreName.Running, Config(Top(new XElement(T + "interface", new XAttribute(Operation, "replace"),
            new XElement(T + "name", "Ethernet0/0"), new XElement(T + "description", "replaced")))));
        Assert.Null(Mtu(store, "Ethernet0/0"));
        Assert.Equal("1500", Mtu(store, "Ethernet1/0"));
        var replaced = store.Snapshot(DatastoreName.Running).Descendants(T + "description").Single();
        Assert.Null(replaced.Attribute(Operation));
    }

    [Fact]
    public void Create_refuses_existing_data_with_data_exists_and_changes_nothing()
    {
        var store = WithTwoInterfaces();
        var before = store.Snapshot(DatastoreName.Running).ToString();
        var e = Assert.Throws<NetconfRpcException>(() => store.EditConfig(DatastoreName.Running, Config(Top(
            Interface("Ethernet9/0", 1000),
            new XElement(T + "interface", new XAttribute(Operation, "create"), new XElement(T + "name", "Ethernet0/0"))))));
        Assert.Equal("data-exists", e.Errors.Single().Tag);
        Assert.Equal("/top/interface", e.Errors.Single().Path);
        Assert.Equal(before, store.Snapshot(DatastoreName.Running).ToString()); // the merge before it was rolled back too
    }

    [Fact]
    public void Delete_removes_and_refuses_missing_data_remove_does_not()
    {
        var store = WithTwoInterfaces();
        store.EditConfig(DatastoreName.Running, Config(Top(new XElement(T + "interface", new XAttribute(Operation, "delete"), new XElement(T + "name", "Ethernet1/0")))));
        Assert.Null(Mtu(store, "Ethernet1/0"));
        var e = Assert.Throws<NetconfRpcException>(() => store.EditConfig(DatastoreName.Running,
            Config(Top(new XElement(T + "interface", new XAttribute(Operation, "delete"), new XElement(T + "name", "Ethernet1/0"))))));
        Assert.Equal("data-missing", e.Errors.Single().Tag);
        store.EditConfig(DatastoreName.Running, Config(Top(new XElement(T + "interface", new XAttribute(Operation, "remove"), new XElement(T + "name", "Ethernet1/0")))));
        store.EditConfig(DatastoreName.Running, Config(Top(new XElement(T + "interface", new XElement(T + "name", "Ethernet0/0"), new XElement(T + "mtu", new XAttribute(Operation, "remove"))))));
        Assert.Null(Mtu(store, "Ethernet0/0"));
        Assert.NotNull(store.Snapshot(DatastoreName.Running).Descendants(T + "interface").Single());
    }

    [Fact]
    public void Leaf_list_entries_match_by_value()
    {
        var store = new InMemoryDatastore(Schema);
        store.EditConfig(DatastoreName.Running, Config(Top(new XElement(T + "dns-server", "192.0.2.1"), new XElement(T + "dns-server", "192.0.2.2"))));
        store.EditConfig(DatastoreName.Running, Config(Top(new XElement(T + "dns-server", "192.0.2.2"), new XElement(T + "dns-server", "192.0.2.3"))));
        Assert.Equal(["192.0.2.1", "192.0.2.2", "192.0.2.3"], store.Snapshot(DatastoreName.Running).Descendants(T + "dns-server").Select(e => e.Value));
        store.EditConfig(DatastoreName.Running, Config(Top(new XElement(T + "dns-server", new XAttribute(Operation, "delete"), "192.0.2.1"))));
        Assert.Equal(["192.0.2.2", "192.0.2.3"], store.Snapshot(DatastoreName.Running).Descendants(T + "dns-server").Select(e => e.Value));
    }

    [Fact]
    public void Default_operation_none_needs_existing_levels_and_changes_only_marked_nodes()
    {
        var store = WithTwoInterfaces();
        var e = Assert.Throws<NetconfRpcException>(() => store.EditConfig(DatastoreName.Running,
            Config(Top(Interface("Ethernet7/0", 1))), DefaultOperation.None));
        Assert.Equal("data-missing", e.Errors.Single().Tag);
        store.EditConfig(DatastoreName.Running, Config(Top(new XElement(T + "interface", new XElement(T + "name", "Ethernet0/0"),
            new XElement(T + "mtu", 1), new XElement(T + "description", new XAttribute(Operation, "create"), "x")))), DefaultOperation.None);
        Assert.Equal("1500", Mtu(store, "Ethernet0/0")); // unmarked leaf untouched under none
        Assert.Equal("x", store.Snapshot(DatastoreName.Running).Descendants(T + "description").Single().Value);
    }

    [Fact]
    public void Default_operation_replace_replaces_the_whole_datastore()
    {
        var store = WithTwoInterfaces();
        store.EditConfig(DatastoreName.Running, Config(new XElement(T + "system", new XElement(T + "hostname", "r1"))), DefaultOperation.Replace);
        var data = store.Snapshot(DatastoreName.Running);
        Assert.Empty(data.Descendants(T + "interface"));
        Assert.Equal("r1", data.Descendants(T + "hostname").Single().Value);
    }

    [Fact]
    public void Unknown_operation_missing_key_and_nested_operation_in_replace_are_refused()
    {
        var store = WithTwoInterfaces();
        Assert.Equal("bad-attribute", Assert.Throws<NetconfRpcException>(() => store.EditConfig(DatastoreName.Running,
            Config(Top(new XAttribute(Operation, "frobnicate"))))).Errors.Single().Tag);
        Assert.Equal("missing-element", Assert.Throws<NetconfRpcException>(() => store.EditConfig(DatastoreName.Running,
            Config(Top(new XElement(T + "interface", new XElement(T + "mtu", 1)))))).Errors.Single().Tag);
        Assert.Equal("operation-not-supported", Assert.Throws<NetconfRpcException>(() => store.EditConfig(DatastoreName.Running,
            Config(Top(new XAttribute(Operation, "replace"), new XElement(T + "x", new XAttribute(Operation, "delete")))))).Errors.Single().Tag);
    }

    [Fact]
    public void Candidate_is_separate_until_commit_and_discard_reverts_it()
    {
        var store = WithTwoInterfaces();
        store.DiscardChanges(); // candidate := running
        store.EditConfig(DatastoreName.Candidate, Config(Top(Interface("Ethernet0/0", 9000))));
        Assert.Equal("1500", Mtu(store, "Ethernet0/0"));
        Assert.Equal("9000", Mtu(store, "Ethernet0/0", DatastoreName.Candidate));
        store.Commit();
        Assert.Equal("9000", Mtu(store, "Ethernet0/0"));
        store.EditConfig(DatastoreName.Candidate, Config(Top(Interface("Ethernet0/0", 1))));
        store.DiscardChanges();
        Assert.Equal("9000", Mtu(store, "Ethernet0/0", DatastoreName.Candidate));
    }

    [Fact]
    public void The_node_bound_refuses_an_edit_with_resource_denied()
    {
        var store = new InMemoryDatastore(Schema, maxElements: 20);
        var e = Assert.Throws<NetconfRpcException>(() => store.EditConfig(DatastoreName.Running,
            Config(Top(Enumerable.Range(0, 10).Select(i => Interface($"e{i}", i)).ToArray()))));
        Assert.Equal("resource-denied", e.Errors.Single().Tag);
        Assert.Empty(store.Snapshot(DatastoreName.Running).Elements());
    }

    [Fact]
    public void Subtree_filter_selection_content_match_and_containment()
    {
        var store = WithTwoInterfaces();
        store.EditConfig(DatastoreName.Running, Config(Top(new XElement(T + "users",
            new XElement(T + "user", new XElement(T + "name", "root"), new XElement(T + "type", "superuser")),
            new XElement(T + "user", new XElement(T + "name", "fred"), new XElement(T + "type", "admin"))))));
        XElement Filter(params object[] c) => new(NetconfXml.Base + "filter", new XAttribute("type", "subtree"), c);

        // §6.2.4 selection node: the whole users subtree.
        var users = store.GetConfig(DatastoreName.Running, Filter(Top(new XElement(T + "users"))));
        Assert.Equal(2, users.Descendants(T + "user").Count());
        Assert.Empty(users.Descendants(T + "interface"));

        // §6.2.5 content match only: the whole matching entry.
        var fred = store.GetConfig(DatastoreName.Running, Filter(Top(new XElement(T + "users", new XElement(T + "user", new XElement(T + "name", "fred"))))));
        var user = fred.Descendants(T + "user").Single();
        Assert.Equal("admin", user.Element(T + "type")!.Value);

        // content match + selection: the key and the selected leaf only.
        var mtu = store.GetConfig(DatastoreName.Running, Filter(Top(new XElement(T + "interface", new XElement(T + "name", "Ethernet1/0"), new XElement(T + "mtu")))));
        var iface = mtu.Descendants(T + "interface").Single();
        Assert.Equal(["name", "mtu"], iface.Elements().Select(e => e.Name.LocalName));

        // No match: nothing; empty filter: nothing (§6.4.2); no namespace: matches any namespace.
        Assert.Empty(store.GetConfig(DatastoreName.Running, Filter(Top(new XElement(T + "interface", new XElement(T + "name", "nope"))))).Elements());
        Assert.Empty(store.GetConfig(DatastoreName.Running, Filter()).Elements());
        Assert.Equal(2, store.GetConfig(DatastoreName.Running, Filter(new XElement("top", new XElement("interface")))).Descendants(T + "interface").Count());
    }
}
