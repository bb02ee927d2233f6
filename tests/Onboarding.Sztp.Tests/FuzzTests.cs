namespace Onboarding.Sztp.Tests;

/// <summary>Garbage in: every parser either returns or throws <see cref="SztpException"/>, never anything else.</summary>
public class FuzzTests
{
    [Fact]
    public void Mutated_and_random_inputs_only_ever_raise_sztp_exceptions()
    {
        var random = new Random(8572);
        byte[][] seeds =
        [
            """{"ietf-sztp-bootstrap-server:input":{"signed-data-preferred":[null],"hw-model":"m","nonce":"AQID"}}"""u8.ToArray(),
            """<input xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"><progress-type>bootstrap-complete</progress-type></input>"""u8.ToArray(),
            """{"ietf-sztp-bootstrap-server:input":{"progress-type":"bootstrap-complete","ssh-host-keys":{"ssh-host-key":[{"algorithm":"a","key-data":"AA=="}]}}}"""u8.ToArray(),
            ConveyedInformationCodec.Encode(new RedirectInformation([new BootstrapServer("a", 1, [1])]), SztpEncoding.Json),
            ConveyedInformationCodec.Encode(new OnboardingInformation(new BootImage("o", "v", ["u"], [new ImageVerification("sha-256", "00")]), ConfigurationHandling.Merge, null, [1]), SztpEncoding.Xml),
            SztpCms.EncodeUnsigned(SztpEncoding.Json, "{}"u8),
            SztpCms.EncodeCertificatesOnly([TestPki.Ca("fuzz", ecdsa: true)]),
        ];
        Action<byte[]>[] parsers =
        [
            b => BootstrapServerRpc.ParseGetBootstrappingDataInput(b, SztpEncoding.Json),
            b => BootstrapServerRpc.ParseGetBootstrappingDataInput(b, SztpEncoding.Xml),
            b => BootstrapServerRpc.ParseReportProgressInput(b, SztpEncoding.Json),
            b => BootstrapServerRpc.ParseReportProgressInput(b, SztpEncoding.Xml),
            b => BootstrapServerRpc.ParseGetBootstrappingDataOutput(b, SztpEncoding.Json),
            b => ConveyedInformationCodec.Decode(b, SztpEncoding.Json),
            b => ConveyedInformationCodec.Decode(b, SztpEncoding.Xml),
            b => OwnershipVoucher.FromJson(b),
            b => SztpCms.DecodeUnsigned(b),
            b => SztpCms.DecodeCertificatesOnly(b),
            b => SztpCms.VerifySigned(b, [SztpOids.ConveyedInfoJson], [], DateTimeOffset.UtcNow),
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
                catch (SztpException)
                {
                }
#pragma warning disable CA1031 // the point of the test is to catch whatever escapes
                catch (Exception e)
#pragma warning restore CA1031
                {
                    failures.Add($"{e.GetType().Name}: {e.Message} on {Convert.ToBase64String(input)}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(5)));
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = seed.ToList();
        switch (random.Next(4))
        {
            case 0: // flip bytes
                for (var n = random.Next(1, 4); n > 0 && bytes.Count > 0; n--)
                    bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                break;
            case 1: // truncate
                var keep = random.Next(bytes.Count);
                bytes.RemoveRange(keep, bytes.Count - keep);
                break;
            case 2: // insert structural characters
                bytes.Insert(random.Next(bytes.Count), (byte)"{}[]\":,<>/=0\0"[random.Next(13)]);
                break;
            default: // pure noise
                return Enumerable.Range(0, random.Next(64)).Select(_ => (byte)random.Next(256)).ToArray();
        }
        return bytes.ToArray();
    }
}
