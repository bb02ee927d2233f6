using System.Text;
using System.Xml.Linq;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.Framing;
using Onboarding.Netconf.Messages;
using Onboarding.Netconf.OutboundSsh;

namespace Onboarding.Netconf.Tests;

/// <summary>Garbage in: every parser returns or throws its typed exception, never anything else.</summary>
public class FuzzTests
{
    [Fact]
    public void Mutated_inputs_only_ever_raise_typed_errors()
    {
        var random = new Random(6242);
        byte[][] seeds =
        [
            RfcExamples.ChunkedCloseSession,
            RfcExamples.ServerHelloFramed,
            Encoding.UTF8.GetBytes(RfcExamples.TwoErrorsReply),
            Encoding.UTF8.GetBytes(RfcExamples.MissingAttributeReply),
            OutboundSshPreamble.WithHostKey("d", "ssh-ed25519 AAAA", "s"u8).Encode(),
            Encoding.UTF8.GetBytes(
                "<config xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><top xmlns=\"http://example.com/schema/1.2/config\">" +
                "<interface><name>e0</name><mtu>1</mtu></interface><dns-server>a</dns-server></top></config>"),
            Encoding.UTF8.GetBytes(
                "<edit-config xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><target><candidate/></target><default-operation>none</default-operation>" +
                "<config><top xmlns=\"http://example.com/schema/1.2/config\"><interface><name>e0</name></interface></top></config></edit-config>"),
            Encoding.UTF8.GetBytes(
                "<get-config xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><source><running/></source><filter type=\"subtree\">" +
                "<top xmlns=\"http://example.com/schema/1.2/config\"><interface><name>e0</name><mtu/></interface></top></filter></get-config>"),
        ];
        var limits = new NetconfFramingLimits { MaxMessageSize = 4096, MaxChunkSize = 1024 };
        Action<byte[]>[] parsers =
        [
            b => DecodeAll(new ChunkedDecoder(limits), b),
            b => DecodeAll(new EndOfMessageDecoder(limits), b),
            b => HelloMessage.Parse(NetconfXml.Parse(b, 4096)),
            b => RpcReply.Parse(NetconfXml.Parse(b, 4096)),
            b => new OutboundSshPreambleReader().Feed(b),
            b => new InMemoryDatastore(DatastoreTests.Schema).EditConfig(DatastoreName.Running, NetconfXml.Parse(b, 4096)),
            b => new InMemoryDatastore().GetConfig(DatastoreName.Running, NetconfXml.Parse(b, 4096)),
            b =>
            {
                var op = NetconfXml.Parse(b, 4096);
                new InMemoryDatastore(DatastoreTests.Schema).HandleRpcAsync(new NetconfRpcRequest("1", op, new XElement(NetconfXml.Base + "rpc", op), 1), default).AsTask().GetAwaiter().GetResult();
            },
        ];
        var failures = new List<string>();
        for (var i = 0; i < 3000; i++)
        {
            var input = Mutate(seeds[random.Next(seeds.Length)], random);
            foreach (var parse in parsers)
            {
                try
                {
                    parse(input);
                }
                catch (Exception e) when (e is NetconfException or NetconfRpcException)
                {
                }
                catch (Exception e)
                {
                    failures.Add($"{e.GetType().Name}: {e.Message} on {Convert.ToBase64String(input)}");
                }
            }
        }
        Assert.Empty(failures);
    }

    private static void DecodeAll(INetconfFrameDecoder decoder, byte[] bytes)
    {
        ReadOnlySpan<byte> span = bytes;
        while (decoder.TryDecode(ref span, out _))
        {
        }
    }

    private static readonly byte[] Specials = "<>#\n]0:/\"&\0"u8.ToArray();

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        var edits = random.Next(1, 6);
        for (var e = 0; e < edits && bytes.Count > 0; e++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveAt(at);
                    break;
                case 2:
                    bytes.Insert(at, Specials[random.Next(Specials.Length)]);
                    break;
                default:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 16)));
                    break;
            }
        }
        return [.. bytes];
    }

    [Fact]
    public void Edit_config_under_random_operations_never_throws_untyped()
    {
        var random = new Random(7);
        var ops = new[] { "merge", "replace", "create", "delete", "remove", null };
        var store = new InMemoryDatastore(DatastoreTests.Schema);
        var t = DatastoreTests.T;
        for (var i = 0; i < 2000; i++)
        {
            XElement Node(string name, object? content)
            {
                var e = new XElement(t + name, content);
                if (ops[random.Next(ops.Length)] is { } op)
                    e.SetAttributeValue(NetconfXml.Base + "operation", op);
                return e;
            }
            var config = new XElement(NetconfXml.Base + "config", Node("top",
                new object[] { Node("interface", new object[] { new XElement(t + "name", "e" + random.Next(3)), Node("mtu", random.Next(9)) }), Node("dns-server", "s" + random.Next(3)) }));
            try
            {
                store.EditConfig(random.Next(2) == 0 ? DatastoreName.Running : DatastoreName.Candidate, config, (DefaultOperation)random.Next(3));
            }
            catch (NetconfRpcException e)
            {
                Assert.NotEmpty(e.Errors);
            }
        }
        // Whatever happened, list entries stay unique by key.
        var names = store.Snapshot(DatastoreName.Running).Descendants(t + "interface").Select(e => e.Element(t + "name")?.Value).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
    }
}
