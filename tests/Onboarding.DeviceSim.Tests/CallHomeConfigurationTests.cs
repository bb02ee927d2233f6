using Onboarding.DeviceSim.CallHome;
using Onboarding.Ssh.Keys;
using Onboarding.Sztp;

namespace Onboarding.DeviceSim.Tests;

/// <summary>Reading the NMS's call-home configuration, the state file, and the --nms endpoint syntax.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CallHomeConfigurationTests : IDisposable
{
    private readonly SimulatedFleet _fleet = new();

    [Fact]
    public void Netconf_server_configuration_yields_address_port_user_and_client_key()
    {
        var key = _fleet.NmsKey.PublicKey;
        var target = CallHomeConfigurationReader.Read(SimulatedFleet.NetconfConfiguration("nms.example", 9999, Convert.ToBase64String(key.Blob)));
        Assert.Equal(new CallHomeTarget(CallHomeStyle.Netconf, "nms.example", 9999, SimulatedFleet.NmsUser, key.ToAuthorizedKeysLine(), null), target);
    }

    [Fact]
    public void Netconf_server_configuration_without_a_port_means_rfc8071_port_4334()
    {
        var xml = SimulatedFleet.NetconfConfiguration("2001:db8::1", 1, Convert.ToBase64String(_fleet.NmsKey.PublicKey.Blob))
            .Replace("<remote-port>1</remote-port>", "", StringComparison.Ordinal);
        var target = CallHomeConfigurationReader.Read(xml)!;
        Assert.Equal(("2001:db8::1", 4334), (target.Host, target.Port));
    }

    [Fact]
    public void Junos_configuration_yields_the_outbound_ssh_client_and_the_unescaped_secret()
    {
        var line = _fleet.NmsKey.PublicKey.ToAuthorizedKeysLine("nms");
        var target = CallHomeConfigurationReader.Read(SimulatedFleet.JunosConfiguration("SIM000001", "192.0.2.7", 4335, line));
        Assert.Equal(new CallHomeTarget(CallHomeStyle.Junos, "192.0.2.7", 4335, SimulatedFleet.NmsUser, line, SimulatedFleet.Secret), target);
    }

    [Theory]
    [InlineData("hostname nms-configured;")]
    [InlineData("<config xmlns=\"urn:example\"><hostname>x</hostname></config>")]
    [InlineData("<netconf-server xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-server\"><call-home>")]
    [InlineData("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>")]
    public void Configuration_without_call_home_yields_nothing(string configuration) =>
        Assert.Null(CallHomeConfigurationReader.Read(configuration));

    [Fact]
    public void State_keeps_one_host_key_per_device_owner_only_and_records_what_bootstrap_received()
    {
        var serial = _fleet.Devices[0].Serial;
        var (first, key1) = DeviceState.LoadOrCreate(_fleet.StateDirectory, serial);
        var (_, key2) = DeviceState.LoadOrCreate(_fleet.StateDirectory, serial);
        Assert.Equal(key1.PublicKey, key2.PublicKey);
        Assert.Equal("ssh-ed25519", key1.KeyType);
        Assert.Equal(key1.PublicKey, SshPublicKey.ParseAuthorizedKeysLine(first.HostKeyPublic));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(DeviceState.PathOf(_fleet.StateDirectory, serial)));

        var configuration = SimulatedFleet.JunosConfiguration(serial, "nms.example", 4334, _fleet.NmsKey.PublicKey.ToAuthorizedKeysLine());
        first.WithBootstrap(new Uri("https://nms.example:8443/"), new OnboardingInformation(Configuration: System.Text.Encoding.UTF8.GetBytes(configuration)), DateTimeOffset.UtcNow)
            .Save(_fleet.StateDirectory);
        var saved = DeviceState.Load(_fleet.StateDirectory, serial)!;
        Assert.Equal(first.HostKey, saved.HostKey);
        Assert.Equal("https://nms.example:8443", saved.BootstrapServer);
        Assert.Equal(configuration, saved.Configuration);
        Assert.Equal(CallHomeStyle.Junos, saved.CallHome!.Style);
        key1.Dispose();
        key2.Dispose();
    }

    [Fact]
    public async Task A_corrupt_state_file_stops_the_device_with_a_clear_reason()
    {
        Directory.CreateDirectory(_fleet.StateDirectory);
        await File.WriteAllTextAsync(DeviceState.PathOf(_fleet.StateDirectory, _fleet.Devices[0].Serial), "{ not json");
        var outcome = await new CallHomeDevice(_fleet.Devices[0], _fleet.Settings(), new CallHomeCounters()).RunAsync(CancellationToken.None);
        Assert.Equal("bad-state", outcome.Reason);
        Assert.Contains("not a device state file", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_rsa2048_idevid_cannot_be_the_host_key_and_says_so()
    {
        using var rsaFleet = new SimulatedFleet(1, Bootstrap.DeviceKeyType.Rsa2048);
        rsaFleet.Bootstrapped(CallHomeStyle.Netconf, 1);
        var outcome = await new CallHomeDevice(rsaFleet.Devices[0], rsaFleet.Settings() with { HostKey = HostKeySource.IdevId }, new CallHomeCounters()).RunAsync(CancellationToken.None);
        Assert.Equal("idevid-key-too-weak", outcome.Reason);
        Assert.Equal(0, outcome.Connections);
    }

    [Theory]
    [InlineData("nms.example:4335", "nms.example", 4335)]
    [InlineData("nms.example", "nms.example", 4334)]
    [InlineData("[2001:db8::1]:830", "2001:db8::1", 830)]
    [InlineData("[2001:db8::1]", "2001:db8::1", 4334)]
    [InlineData("2001:db8::1", "2001:db8::1", 4334)]
    public void Nms_endpoint_is_parsed(string value, string host, int port)
    {
        Assert.True(CallHomeCommands.TryParseEndpoint(value, out var h, out var p));
        Assert.Equal((host, port), (h, p));
    }

    [Theory]
    [InlineData(":4334")]
    [InlineData("nms:0")]
    [InlineData("nms:65536")]
    [InlineData("nms:port")]
    [InlineData("[2001:db8::1")]
    [InlineData("[2001:db8::1]x")]
    public void Bad_nms_endpoint_is_refused(string value) =>
        Assert.False(CallHomeCommands.TryParseEndpoint(value, out _, out _));

    public void Dispose() => _fleet.Dispose();
}
