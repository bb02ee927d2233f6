namespace Onboarding.Sztp.Tests;

/// <summary>The device's side of the library: DHCP option 143 decoding and the RPC inputs, read back by the server's parsers.</summary>
public sealed class DeviceSideTests
{
    [Fact]
    public void Dhcp_option_value_round_trips_in_order()
    {
        string[] uris = ["https://redirect.example:8443", "https://[2001:db8::1]", "https://192.0.2.7"];
        Assert.True(SztpBootstrapServerList.TryEncode(uris, out var value, out var error), error);

        var decoded = SztpBootstrapServerList.Decode(value);

        Assert.Equal(["redirect.example:8443", "[2001:db8::1]", "192.0.2.7"], decoded.Select(u => u.Authority));
        Assert.Equal(8443, decoded[0].Port);
    }

    [Theory]
    [InlineData("")]                                        // no URI at all
    [InlineData("00")]                                      // ends inside uri-length
    [InlineData("0005687474")]                              // uri-length past the end
    [InlineData("0012687474703a2f2f6578616d706c652e636f6d")] // http://example.com: not https
    [InlineData("001468747470733a2f2f6578616d706c652e636f6d2f")] // https://example.com/: a path
    public void Malformed_dhcp_option_values_are_refused(string hex)
    {
        var e = Assert.Throws<SztpException>(() => SztpBootstrapServerList.Decode(Convert.FromHexString(hex)));
        Assert.Equal(SztpError.Malformed, e.Error);
    }

    [Theory]
    [InlineData(SztpEncoding.Json)]
    [InlineData(SztpEncoding.Xml)]
    public void Get_bootstrapping_data_input_is_read_back_by_the_server_parser(SztpEncoding encoding)
    {
        var input = new GetBootstrappingDataInput(true, "MX204", "Junos", "23.4R1", [1, 2, 3]);

        var parsed = BootstrapServerRpc.ParseGetBootstrappingDataInput(DeviceRpcInput.WriteGetBootstrappingData(input, encoding), encoding);

        Assert.True(parsed.SignedDataPreferred);
        Assert.Equal(("MX204", "Junos", "23.4R1"), (parsed.HwModel, parsed.OsName, parsed.OsVersion));
        Assert.Equal(input.Nonce, parsed.Nonce);
        Assert.False(BootstrapServerRpc.ParseGetBootstrappingDataInput(
            DeviceRpcInput.WriteGetBootstrappingData(new GetBootstrappingDataInput(), encoding), encoding).SignedDataPreferred);
    }

    [Theory]
    [InlineData(SztpEncoding.Json)]
    [InlineData(SztpEncoding.Xml)]
    public void Report_progress_input_is_read_back_by_the_server_parser(SztpEncoding encoding)
    {
        var input = new ReportProgressInput(ProgressType.BootstrapComplete, "done", [new SshHostKey("ssh-ed25519", [0, 0, 0, 11])], [[0x30, 0x03]]);

        var parsed = BootstrapServerRpc.ParseReportProgressInput(DeviceRpcInput.WriteReportProgress(input, encoding), encoding);

        Assert.Equal(ProgressType.BootstrapComplete, parsed.ProgressType);
        Assert.Equal("done", parsed.Message);
        var key = Assert.Single(parsed.SshHostKeys!);
        Assert.Equal("ssh-ed25519", key.Algorithm);
        Assert.Equal([0, 0, 0, 11], key.KeyData);
        Assert.Equal([0x30, 0x03], Assert.Single(parsed.TrustAnchorCerts!));
    }
}
