using Onboarding.Host.Dhcp;
using Onboarding.Sztp;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

/// <summary>
/// DHCP option 143 / 136 (RFC 8572 §8): the encoder against golden bytes written out by hand, the <c>dhcp-option</c>
/// command of the built host run as a process, and its Kea and dnsmasq snippets checked by Debian's kea-dhcp4,
/// kea-dhcp6 and dnsmasq.
/// </summary>
public class DhcpOptionTests
{
    // "https://redirect.example:8443" is 8 + 16 + 5 = 29 (0x1d) octets.
    private const string RedirectGolden =
        "001d" + "68747470733a2f2f" /* https:// */ + "72656469726563742e6578616d706c65" /* redirect.example */ + "3a38343433" /* :8443 */;

    // "https://[2001:db8::1]" is 8 + 13 = 21 (0x15) octets.
    private const string Ipv6Golden = "0015" + "68747470733a2f2f" + "5b323030313a6462383a3a315d" /* [2001:db8::1] */;

    // "https://nms.example" is 8 + 11 = 19 (0x13) octets.
    private const string NmsGolden = "0013" + "68747470733a2f2f" + "6e6d732e6578616d706c65" /* nms.example */;

    private static byte[] Encode(params string[] uris)
    {
        Assert.True(SztpBootstrapServerList.TryEncode(uris, out var value, out var error), error);
        return value;
    }

    [Fact]
    public void One_uri_with_a_port_is_its_length_in_network_order_then_its_octets()
    {
        Assert.Equal(Convert.FromHexString(RedirectGolden), Encode("https://redirect.example:8443"));
    }

    [Fact]
    public void An_ipv6_literal_host_is_kept_in_brackets()
    {
        Assert.Equal(Convert.FromHexString(Ipv6Golden), Encode("https://[2001:db8::1]"));
    }

    [Fact]
    public void Several_uris_are_concatenated_in_the_order_given()
    {
        Assert.Equal(Convert.FromHexString(RedirectGolden + Ipv6Golden + NmsGolden),
            Encode("https://redirect.example:8443", "https://[2001:db8::1]", "https://nms.example"));
        Assert.Equal(Convert.FromHexString(NmsGolden + RedirectGolden), Encode("https://nms.example", "https://redirect.example:8443"));
    }

    [Fact]
    public void A_uri_longer_than_255_octets_uses_both_length_octets()
    {
        // Four 63-character labels: a 255-character host name, the longest DNS allows; 8 + 255 = 263 = 0x0107.
        var host = string.Join('.', Enumerable.Repeat(new string('a', 63), 4));
        var value = Encode("https://" + host);

        Assert.Equal(265, value.Length);
        Assert.Equal(new byte[] { 0x01, 0x07 }, value[..2]);
        Assert.Equal("https://" + host, System.Text.Encoding.ASCII.GetString(value, 2, 263));
    }

    [Theory]
    [InlineData("http://redirect.example", "not an https URI")]
    [InlineData("HTTPS://redirect.example", "not an https URI")]
    [InlineData("redirect.example:8443", "not an https URI")]
    [InlineData("", "not an https URI")]
    [InlineData("https://redirect.example/restconf", "path, query or fragment ('/restconf')")]
    [InlineData("https://redirect.example/", "path, query or fragment ('/')")]
    [InlineData("https://redirect.example?x=1", "path, query or fragment ('?x=1')")]
    [InlineData("https://redirect.example#top", "path, query or fragment ('#top')")]
    [InlineData("https://redirect.example:0", "invalid port '0'")]
    [InlineData("https://redirect.example:", "invalid port ''")]
    [InlineData("https://redirect.example:65536", "not a valid URI")]
    [InlineData("https://", "not a valid URI")]
    [InlineData("https://[2001:db8::1", "not a valid URI")]
    [InlineData("https://2001:db8::1", "not a valid URI")]
    [InlineData("https://bücher.example", "outside printable ASCII")]
    [InlineData("https://redirect example", "outside printable ASCII")]
    public void A_uri_that_is_not_an_https_base_url_is_refused_with_the_reason(string uri, string reason)
    {
        Assert.False(SztpBootstrapServerList.TryEncode([uri], out var value, out var error));
        Assert.Null(value);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void User_information_is_refused_without_echoing_the_password()
    {
        Assert.False(SztpBootstrapServerList.TryEncode(["https://admin:s3cret-pw@redirect.example"], out _, out var error));

        Assert.Contains("user information", error, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", error, StringComparison.Ordinal);
        Assert.DoesNotContain("admin", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_uri_over_65535_octets_and_a_list_over_65535_octets_are_refused()
    {
        Assert.False(SztpBootstrapServerList.TryEncode(["https://" + new string('a', 65_528)], out _, out var error));
        Assert.Contains("at most 65535 bytes", error, StringComparison.Ordinal);

        // 300 URIs of 2 + 250 octets: 75,600 octets, each URI valid on its own.
        var uri = "https://" + string.Join('.', Enumerable.Repeat(new string('b', 59), 4)) + ".ex";
        Assert.Equal(250, uri.Length);
        Assert.False(SztpBootstrapServerList.TryEncode(Enumerable.Repeat(uri, 300).ToArray(), out _, out error));
        Assert.Contains("takes 75600 bytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public void No_uri_is_refused()
    {
        Assert.False(SztpBootstrapServerList.TryEncode([], out _, out var error));
        Assert.Contains("at least one", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_command_refuses_a_list_that_does_not_fit_one_dhcpv4_option()
    {
        var uris = Enumerable.Range(0, 3).Select(i => $"https://bootstrap-{i}.{new string('c', 70)}.example").ToArray();
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(2, DhcpOptionCommand.Run(uris, output, error));

        Assert.Equal("", output.ToString());
        Assert.Contains("the list takes 300 bytes, more than the 255 of one DHCPv4 option", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_command_accepts_a_list_of_exactly_255_octets()
    {
        // 2 + 253: "https://" + 4 labels of 60 + 3 dots + ".e".
        var uri = "https://" + string.Join('.', Enumerable.Repeat(new string('d', 60), 4)) + ".e";
        Assert.Equal(253, uri.Length);
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(0, DhcpOptionCommand.Run([uri], output, error));
        Assert.Contains("1 URI, 255 bytes", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_host_prints_the_value_and_the_kea_and_dnsmasq_snippets()
    {
        var result = await RunHostAsync("https://redirect.example:8443");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("", result.Stderr);
        var colon = string.Join(':', Enumerable.Range(0, RedirectGolden.Length / 2).Select(i => RedirectGolden.Substring(i * 2, 2)));
        Assert.Equal(
            "# SZTP bootstrap-server list (RFC 8572 §8.3): 1 URI, 31 bytes; DHCPv4 option 143, DHCPv6 option 136\n" +
            "#   https://redirect.example:8443\n" +
            $"hex: {RedirectGolden}\n" +
            $"colon-separated: {colon}\n" +
            "\n" +
            "# ISC Kea, kea-dhcp4.conf: merge into \"Dhcp4\" (or a subnet's \"option-data\")\n" +
            "{\n" +
            "  \"Dhcp4\": {\n" +
            "    \"option-data\": [\n" +
            $"      {{ \"code\": 143, \"space\": \"dhcp4\", \"csv-format\": false, \"always-send\": true, \"data\": \"{RedirectGolden}\" }}\n" +
            "    ]\n" +
            "  }\n" +
            "}\n" +
            "\n" +
            "# ISC Kea, kea-dhcp6.conf: merge into \"Dhcp6\" (or a subnet's \"option-data\")\n" +
            "{\n" +
            "  \"Dhcp6\": {\n" +
            "    \"option-data\": [\n" +
            $"      {{ \"code\": 136, \"space\": \"dhcp6\", \"csv-format\": false, \"always-send\": true, \"data\": \"{RedirectGolden}\" }}\n" +
            "    ]\n" +
            "  }\n" +
            "}\n" +
            "\n" +
            "# dnsmasq.conf\n" +
            $"dhcp-option-force=143,{colon}\n" +
            $"dhcp-option=option6:136,{colon}\n",
            result.Stdout);
    }

    [Fact]
    public async Task The_host_refuses_bad_input_with_exit_code_2_and_nothing_on_stdout()
    {
        var noUri = await RunHostAsync();
        var badScheme = await RunHostAsync("https://redirect.example:8443", "ftp://redirect.example");

        Assert.Equal(2, noUri.ExitCode);
        Assert.Equal("", noUri.Stdout);
        Assert.Contains("at least one bootstrap server URI", noUri.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, badScheme.ExitCode);
        Assert.Equal("", badScheme.Stdout);
        Assert.StartsWith("dhcp-option: 'ftp://redirect.example' is not an https URI", badScheme.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kea_accepts_the_printed_dhcp4_and_dhcp6_configuration_and_rejects_a_corrupted_one()
    {
        var sections = await SectionsAsync("https://redirect.example:8443", "https://[2001:db8::1]", "https://nms.example");
        using var directory = new TemporaryDirectory();

        foreach (var (tool, section) in new[] { ("/usr/sbin/kea-dhcp4", sections[1]), ("/usr/sbin/kea-dhcp6", sections[2]) })
        {
            var config = Path.Combine(directory.Path, Path.GetFileName(tool) + ".conf");
            await File.WriteAllTextAsync(config, section);
            var check = await ExternalTool.RunAsync(tool, ["-t", config]);
            Assert.True(check.ExitCode == 0, $"{tool} -t refused:\n{section}\n{check.Stdout}{check.Stderr}");

            // The same check fails when one hex digit is not one, so the check above can fail.
            await File.WriteAllTextAsync(config, section.Replace("\"data\": \"001d", "\"data\": \"001g", StringComparison.Ordinal));
            var corrupted = await ExternalTool.RunAsync(tool, ["-t", config]);
            Assert.NotEqual(0, corrupted.ExitCode);
            Assert.Contains("not a valid string of hexadecimal digits", corrupted.Stdout + corrupted.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Dnsmasq_accepts_the_printed_lines()
    {
        var sections = await SectionsAsync("https://redirect.example:8443", "https://[2001:db8::1]");
        using var directory = new TemporaryDirectory();
        var config = Path.Combine(directory.Path, "dnsmasq.conf");
        await File.WriteAllTextAsync(config, sections[3]);

        var check = await ExternalTool.RunAsync("/usr/sbin/dnsmasq", ["--test", "-C", config]);

        Assert.True(check.ExitCode == 0, $"dnsmasq --test refused:\n{sections[3]}\n{check.Stdout}{check.Stderr}");
        Assert.Contains("syntax check OK", check.Stdout + check.Stderr, StringComparison.Ordinal);
        // dnsmasq reads the option names and codes, not only the syntax: an unknown option6 name is an error.
        await File.WriteAllTextAsync(config, sections[3].Replace("option6:136", "option6:sztp-nonesuch", StringComparison.Ordinal));
        Assert.NotEqual(0, (await ExternalTool.RunAsync("/usr/sbin/dnsmasq", ["--test", "-C", config])).ExitCode);
    }

    private static async Task<string[]> SectionsAsync(params string[] uris)
    {
        var result = await RunHostAsync(uris);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var sections = result.Stdout.Split("\n\n");
        Assert.Equal(4, sections.Length);
        return sections;
    }

    private static Task<ExternalTool.Result> RunHostAsync(params string[] uris) =>
        ExternalTool.RunAsync("dotnet", [HostProcess.HostDll, "dhcp-option", .. uris], timeout: TimeSpan.FromSeconds(60));

    private sealed class TemporaryDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("dhcp-option-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
