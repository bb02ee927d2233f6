using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Bootstrap;
using Onboarding.DeviceSim.Bootstrap;
using Onboarding.DeviceSim.CallHome;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Sztp;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The device simulator's bootstrap mode against a pair of real bootstrap servers built on AddBootstrapServer: a
/// redirecting one (unsigned, or signed with owner certificate and voucher) and an onboarding one that records the
/// progress reports. Includes the answers a strict device must refuse.
/// </summary>
public sealed class DeviceSimBootstrapTests : IDisposable
{
    private readonly BootstrapPki _pki = new();
    private readonly X509Certificate2 _owner = BootstrapPki.Ca("CN=Owner signing certificate, O=Customer");
    private readonly X509Certificate2 _voucherSigner = BootstrapPki.Ca("CN=Acme voucher signer, O=Acme");
    private readonly string _minted;

    public DeviceSimBootstrapTests()
    {
        _minted = Path.Combine(_pki.Directory, "minted");
    }

    [Theory]
    [InlineData(false, SztpEncoding.Json)]
    [InlineData(true, SztpEncoding.Xml)]
    public async Task Devices_follow_the_unsigned_redirect_and_complete_at_the_nms(bool rsa, SztpEncoding encoding)
    {
        await using var pair = await ServerPairAsync(Scenario.Normal);
        var devices = Mint(3, rsa ? DeviceKeyType.Rsa2048 : DeviceKeyType.P256);

        var (outcomes, summary) = await BootstrapSimulation.RunAsync(devices, Settings(pair, encoding: encoding), 2, null, CancellationToken.None);

        Assert.True(summary.Failed == 0, string.Join("; ", outcomes.Select(o => $"{o.Serial}: {o.Reason} {o.Detail}")));
        Assert.Equal(3, summary.Ok);
        foreach (var outcome in outcomes)
        {
            Assert.Equal([pair.Redirect.BaseUri.Authority, pair.Nms.BaseUri.Authority], outcome.Servers.Select(s => s.Authority));
            Assert.Equal("hostname nms-configured;"u8.ToArray(), outcome.Onboarding!.Configuration);
            var reports = pair.State.Reports.Where(r => r.Serial == outcome.Serial).Select(r => r.Input).ToList();
            Assert.Equal(ProgressType.BootstrapInitiated, reports[0].ProgressType);
            Assert.Contains(reports, r => r.ProgressType == ProgressType.ConfigComplete);
            var complete = Assert.Single(reports, r => r.ProgressType == ProgressType.BootstrapComplete);
            var hostKey = Assert.Single(complete.SshHostKeys!);
            Assert.Equal("ssh-ed25519", hostKey.Algorithm);
            Assert.Equal(outcome.HostKey!.Blob, hostKey.KeyData);
        }
        Assert.DoesNotContain(pair.State.Reports, r => r.Server == "redirect");
    }

    [Fact]
    public async Task Signed_redirect_with_voucher_is_verified_and_followed()
    {
        await using var pair = await ServerPairAsync(Scenario.Normal);
        var devices = Mint(2, DeviceKeyType.P256);

        var (outcomes, summary) = await BootstrapSimulation.RunAsync(devices, Settings(pair, signed: true), 2, null, CancellationToken.None);

        Assert.True(summary.Failed == 0, string.Join("; ", outcomes.Select(o => $"{o.Serial}: {o.Reason} {o.Detail}")));
        Assert.All(pair.State.SignedAnswers, a => Assert.True(a));
        Assert.Equal(2, pair.State.SignedAnswers.Count);
    }

    [Fact]
    public async Task Untrusted_first_server_is_accepted_only_because_its_data_is_signed()
    {
        await using var pair = await ServerPairAsync(Scenario.Normal);
        var devices = Mint(1, DeviceKeyType.P256);

        // No TLS trust anchor for the redirect server: the device asks for signed data by itself (RFC 8572 §5.3).
        var (outcomes, _) = await BootstrapSimulation.RunAsync(devices, Settings(pair) with { TrustAnchors = null }, 1, null, CancellationToken.None);

        Assert.True(outcomes[0].Ok, $"{outcomes[0].Reason} {outcomes[0].Detail}");
        Assert.True(Assert.Single(pair.State.SignedAnswers));
    }

    [Fact]
    public async Task Unsigned_answer_from_an_untrusted_server_is_refused()
    {
        await using var pair = await ServerPairAsync(Scenario.AlwaysUnsigned);
        var devices = Mint(1, DeviceKeyType.P256);

        var (outcomes, summary) = await BootstrapSimulation.RunAsync(devices, Settings(pair) with { TrustAnchors = null }, 1, null, CancellationToken.None);

        Assert.Equal("unsigned-from-untrusted-server", outcomes[0].Reason);
        Assert.Equal(1, summary.FailedByReason["unsigned-from-untrusted-server"]);
        Assert.Equal(0, pair.State.NmsCalls);
    }

    [Fact]
    public async Task Tampered_signed_redirect_is_refused_and_the_nms_never_contacted()
    {
        await using var pair = await ServerPairAsync(Scenario.TamperedSignature);
        var devices = Mint(1, DeviceKeyType.P256);

        var (outcomes, _) = await BootstrapSimulation.RunAsync(devices, Settings(pair, signed: true), 1, null, CancellationToken.None);

        Assert.Equal("bad-signature", outcomes[0].Reason);
        Assert.Equal(0, pair.State.NmsCalls);
    }

    [Fact]
    public async Task Voucher_for_another_serial_is_refused()
    {
        await using var pair = await ServerPairAsync(Scenario.VoucherForAnotherSerial);
        var devices = Mint(1, DeviceKeyType.P256);

        var (outcomes, _) = await BootstrapSimulation.RunAsync(devices, Settings(pair, signed: true), 1, null, CancellationToken.None);

        Assert.Equal("voucher-mismatch", outcomes[0].Reason);
        Assert.Contains("OTHER-SERIAL", outcomes[0].Detail);
        Assert.Equal(0, pair.State.NmsCalls);
    }

    [Fact]
    public async Task Voucher_signed_by_an_untrusted_manufacturer_is_refused()
    {
        await using var pair = await ServerPairAsync(Scenario.Normal);
        var devices = Mint(1, DeviceKeyType.P256);
        var settings = Settings(pair, signed: true) with { VoucherTrustAnchors = [BootstrapPki.Ca("CN=Some other manufacturer")] };

        var (outcomes, _) = await BootstrapSimulation.RunAsync(devices, settings, 1, null, CancellationToken.None);

        Assert.Equal("untrusted-signer", outcomes[0].Reason);
        Assert.Equal(0, pair.State.NmsCalls);
    }

    [Fact]
    public async Task Server_certificate_not_under_the_trust_anchor_fails_tls()
    {
        await using var pair = await ServerPairAsync(Scenario.Normal);
        var devices = Mint(1, DeviceKeyType.P256);
        var settings = Settings(pair) with { TrustAnchors = [BootstrapPki.Ca("CN=Not the server CA")] };

        var (outcomes, _) = await BootstrapSimulation.RunAsync(devices, settings, 1, null, CancellationToken.None);

        Assert.Equal("tls", outcomes[0].Reason);
        Assert.Equal(0, pair.State.RedirectCalls);
    }

    [Fact]
    public async Task Device_of_an_unknown_factory_gets_the_servers_refusal()
    {
        await using var pair = await ServerPairAsync(Scenario.Normal);
        Mint(1, DeviceKeyType.P256); // the factory CA the servers trust
        var stranger = BootstrapPki.Device(BootstrapPki.Ca("CN=Unknown factory"), "STRANGER1");
        var device = new DeviceIdentity("STRANGER1", stranger, []);

        var (outcomes, summary) = await BootstrapSimulation.RunAsync([device], Settings(pair), 1, null, CancellationToken.None);

        Assert.Equal("http-401 access-denied", outcomes[0].Reason);
        Assert.Equal(1, summary.Failed);
    }

    [Fact]
    public async Task A_503_with_Retry_After_is_waited_out_and_the_same_server_asked_again()
    {
        await using var pair = await ServerPairAsync(Scenario.NotYetOnce);
        var devices = Mint(1, DeviceKeyType.P256);

        var (outcomes, _) = await BootstrapSimulation.RunAsync(devices, Settings(pair), 1, null, CancellationToken.None);

        Assert.True(outcomes[0].Ok, $"{outcomes[0].Reason} {outcomes[0].Detail}");
        Assert.Equal(2, pair.State.RedirectCalls);
        Assert.Equal([pair.Redirect.BaseUri.Authority, pair.Nms.BaseUri.Authority], outcomes[0].Servers.Select(s => s.Authority));
    }

    [Fact]
    public async Task A_503_is_the_device_failure_once_its_retries_are_spent()
    {
        await using var pair = await ServerPairAsync(Scenario.NotYetOnce);
        var devices = Mint(1, DeviceKeyType.P256);

        var (outcomes, _) = await BootstrapSimulation.RunAsync(devices, Settings(pair) with { MaxRetries = 0 }, 1, null, CancellationToken.None);

        Assert.Equal("http-503 operation-failed", outcomes[0].Reason);
        Assert.Equal(1, pair.State.RedirectCalls);
        Assert.Equal(0, pair.State.NmsCalls);
    }

    [Fact]
    public async Task Bootstrap_url_from_a_dhcp_option_143_value()
    {
        await using var pair = await ServerPairAsync(Scenario.Normal);
        var devices = Mint(1, DeviceKeyType.P256);
        Assert.True(SztpBootstrapServerList.TryEncode(["https://localhost:1", $"https://127.0.0.1:{pair.Redirect.Endpoint.Port}"], out var value, out var error), error);

        var servers = BootstrapUrls.Resolve(null, null, string.Join(':', value.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))));
        var (outcomes, _) = await BootstrapSimulation.RunAsync(devices, Settings(pair) with { BootstrapServers = servers }, 1, null, CancellationToken.None);

        // The first URI refuses connections; RFC 8572 §5.2: the device goes on to the next one.
        Assert.True(outcomes[0].Ok, $"{outcomes[0].Reason} {outcomes[0].Detail}");
        Assert.Equal(["localhost:1", pair.Redirect.BaseUri.Authority, pair.Nms.BaseUri.Authority], outcomes[0].Servers.Select(s => s.Authority));
        Assert.Throws<SztpException>(() => BootstrapUrls.Resolve(null, null, "00ff6874"));
    }

    [Fact]
    public async Task Device_keeps_its_host_key_and_what_it_received_in_its_state_file()
    {
        await using var pair = await ServerPairAsync(Scenario.Normal);
        var devices = Mint(1, DeviceKeyType.P256);
        var stateDirectory = Path.Combine(_minted, DeviceState.Directory);
        var settings = Settings(pair) with { StateDirectory = stateDirectory };

        var (first, _) = await BootstrapSimulation.RunAsync(devices, settings, 1, null, CancellationToken.None);
        var (again, _) = await BootstrapSimulation.RunAsync(devices, settings, 1, null, CancellationToken.None);

        Assert.True(first[0].Ok && again[0].Ok, $"{first[0].Detail} {again[0].Detail}");
        var state = DeviceState.Load(stateDirectory, devices[0].Serial)!;
        var kept = Onboarding.Ssh.Keys.SshPublicKey.ParseAuthorizedKeysLine(state.HostKeyPublic);
        // RFC 8572 §7.3: bootstrap-complete reports the key the device keeps, and keeps reporting it on a second bootstrap.
        Assert.Equal(kept, first[0].HostKey);
        Assert.Equal(kept, again[0].HostKey);
        var reported = pair.State.Reports.Where(r => r.Input.ProgressType == ProgressType.BootstrapComplete).Select(r => r.Input.SshHostKeys!.Single().KeyData).ToList();
        Assert.Equal(2, reported.Count);
        Assert.All(reported, blob => Assert.Equal(kept.Blob, blob));
        Assert.Equal(kept, state.LoadHostKey().PublicKey);
        Assert.Equal("hostname nms-configured;", state.Configuration);
        Assert.Equal(pair.Nms.BaseUri.GetLeftPart(UriPartial.Authority), state.BootstrapServer);
        Assert.Null(state.CallHome); // that configuration says nothing about calling home
    }

    private BootstrapSettings Settings(ServerPair pair, bool signed = false, SztpEncoding encoding = SztpEncoding.Json) =>
        new([pair.Redirect.BaseUri], [_pki.ServerCa], [_voucherSigner], signed, encoding, TimeSpan.FromSeconds(20));

    private IReadOnlyList<DeviceIdentity> Mint(int count, DeviceKeyType key)
    {
        FactoryMint.Mint(_minted, count, key, "SIMT");
        return DeviceIdentity.LoadDirectory(_minted);
    }

    private async Task<ServerPair> ServerPairAsync(Scenario scenario)
    {
        var state = new SimState(scenario, _owner, _voucherSigner, _pki.ServerCa, () => LoadPemCertificate(Path.Combine(_minted, FactoryMint.CaFile)));
        var nms = await TestBootstrapServer.StartAsync<NmsAnswers>(_pki.Server(), s => s.AddSingleton(state));
        state.NmsPort = nms.Endpoint.Port;
        var redirect = await TestBootstrapServer.StartAsync<RedirectAnswers>(_pki.Server(), s => s.AddSingleton(state));
        return new ServerPair(redirect, nms, state);
    }

    private static X509Certificate2 LoadPemCertificate(string path)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(path);
        return certificates[0];
    }

    public void Dispose() => _pki.Dispose();

    public enum Scenario
    {
        Normal,
        AlwaysUnsigned,
        TamperedSignature,
        VoucherForAnotherSerial,
        NotYetOnce,
    }

    public sealed record Reported(string Server, string Serial, ReportProgressInput Input);

    public sealed class SimState(Scenario scenario, X509Certificate2 owner, X509Certificate2 voucherSigner, X509Certificate2 serverCa, Func<X509Certificate2> factoryCa)
    {
        private int _redirectCalls;
        private int _nmsCalls;

        public Scenario Scenario { get; } = scenario;
        public X509Certificate2 Owner { get; } = owner;
        public X509Certificate2 VoucherSigner { get; } = voucherSigner;
        public X509Certificate2 ServerCa { get; } = serverCa;
        private readonly Lazy<X509Certificate2> _factoryCa = new(factoryCa);
        public X509Certificate2 FactoryCa => _factoryCa.Value;
        public int NmsPort { get; set; }
        public ConcurrentQueue<Reported> Reports { get; } = new();
        public ConcurrentQueue<bool> SignedAnswers { get; } = new();
        public int RedirectCalls => _redirectCalls;
        public int NmsCalls => _nmsCalls;
        public int CountRedirect() => Interlocked.Increment(ref _redirectCalls);
        public void CountNms() => Interlocked.Increment(ref _nmsCalls);

        /// <summary>The device's IDevID chains to the factory CA the test minted with.</summary>
        public bool Authenticates(DeviceRequest device)
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(FactoryCa);
            chain.ChainPolicy.ExtraStore.AddRange(device.Intermediates.ToArray());
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(device.Certificate);
        }
    }

    /// <summary>The manufacturer's redirect server of this test: redirect-information to the NMS, signed on request.</summary>
    public sealed class RedirectAnswers(SimState state) : IBootstrapAnswers
    {
        public Task<BootstrapAnswer> GetBootstrappingDataAsync(DeviceRequest device, GetBootstrappingDataInput input, CancellationToken cancellationToken)
        {
            var call = state.CountRedirect();
            if (!state.Authenticates(device))
                return Task.FromResult(BootstrapAnswer.NotAuthenticated("The certificate does not chain to a known factory CA.", "unknown-ca"));
            if (state.Scenario == Scenario.NotYetOnce && call == 1)
                return Task.FromResult(BootstrapAnswer.TryLater("The record is on its way to the NMS.", "nms-unavailable", TimeSpan.FromSeconds(1)));
            var serial = DeviceIdentity.SerialOf(device.Certificate);
            var redirect = ConveyedInformationCodec.Encode(new RedirectInformation(
                [new BootstrapServer("127.0.0.1", (ushort)state.NmsPort, SztpCms.EncodeCertificatesOnly([state.ServerCa]))]), device.Encoding);
            if (!input.SignedDataPreferred || state.Scenario == Scenario.AlwaysUnsigned)
            {
                state.SignedAnswers.Enqueue(false);
                return Task.FromResult(BootstrapAnswer.Data(new GetBootstrappingDataOutput(SztpCms.EncodeUnsigned(device.Encoding, redirect))));
            }
            var conveyed = SztpCms.SignConveyedInformation(device.Encoding, redirect, state.Owner);
            if (state.Scenario == Scenario.TamperedSignature)
            {
                // Change one byte of the signed content (the redirect's port digits), leaving the CMS well-formed.
                var at = conveyed.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(state.NmsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                conveyed[at] = (byte)(conveyed[at] == (byte)'1' ? '2' : '1');
            }
            // RFC 8366 §5.3: a voucher carries nonce or expires-on, never both.
            var voucher = new OwnershipVoucher(DateTimeOffset.UtcNow, input.Nonce is null ? DateTimeOffset.UtcNow.AddDays(1) : null, VoucherAssertion.Verified,
                state.Scenario == Scenario.VoucherForAnotherSerial ? "OTHER-SERIAL" : serial, state.Owner.RawData, input.Nonce).Sign(state.VoucherSigner);
            state.SignedAnswers.Enqueue(true);
            return Task.FromResult(BootstrapAnswer.Data(new GetBootstrappingDataOutput(conveyed, SztpCms.EncodeCertificatesOnly([state.Owner]), voucher)));
        }

        public Task<BootstrapAnswer> ReportProgressAsync(DeviceRequest device, ReportProgressInput input, CancellationToken cancellationToken)
        {
            state.Reports.Enqueue(new Reported("redirect", DeviceIdentity.SerialOf(device.Certificate), input));
            return Task.FromResult(BootstrapAnswer.Recorded);
        }
    }

    /// <summary>The NMS bootstrap server of this test: onboarding-information with a configuration; records every report.</summary>
    public sealed class NmsAnswers(SimState state) : IBootstrapAnswers
    {
        public Task<BootstrapAnswer> GetBootstrappingDataAsync(DeviceRequest device, GetBootstrappingDataInput input, CancellationToken cancellationToken)
        {
            state.CountNms();
            if (!state.Authenticates(device))
                return Task.FromResult(BootstrapAnswer.NotAuthenticated("The certificate does not chain to a known factory CA.", "unknown-ca"));
            var onboarding = ConveyedInformationCodec.Encode(new OnboardingInformation(ConfigurationHandling: ConfigurationHandling.Merge,
                Configuration: "hostname nms-configured;"u8.ToArray()), device.Encoding);
            return Task.FromResult(BootstrapAnswer.Data(new GetBootstrappingDataOutput(SztpCms.EncodeUnsigned(device.Encoding, onboarding))));
        }

        public Task<BootstrapAnswer> ReportProgressAsync(DeviceRequest device, ReportProgressInput input, CancellationToken cancellationToken)
        {
            state.Reports.Enqueue(new Reported("nms", DeviceIdentity.SerialOf(device.Certificate), input));
            return Task.FromResult(BootstrapAnswer.Recorded);
        }
    }

    private sealed record ServerPair(TestBootstrapServer Redirect, TestBootstrapServer Nms, SimState State) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Redirect.DisposeAsync();
            await Nms.DisposeAsync();
        }
    }
}
