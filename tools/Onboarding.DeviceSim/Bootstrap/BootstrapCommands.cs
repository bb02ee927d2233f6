using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Onboarding.Sztp;

namespace Onboarding.DeviceSim.Bootstrap;

/// <summary>The <c>mint</c> and <c>bootstrap</c> subcommands.</summary>
internal static class BootstrapCommands
{
    public static Command Mint()
    {
        var directory = new Option<DirectoryInfo>("--directory", "-d") { Description = "Where to write factory-ca.pem and devices/<serial>.pem.", Required = true };
        var count = new Option<int>("--devices", "-n") { Description = "Device certificates to mint.", DefaultValueFactory = _ => 10 };
        var key = new Option<DeviceKeyType>("--key") { Description = "Device key type: Rsa2048 or P256.", DefaultValueFactory = _ => DeviceKeyType.P256 };
        var prefix = new Option<string>("--prefix") { Description = "Serial prefix; serials are <prefix>000001….", DefaultValueFactory = _ => "SIM" };
        var command = new Command("mint", "Creates a demo factory CA and N device certificates (IDevIDs) with their keys.") { directory, count, key, prefix };
        command.SetAction(parse =>
        {
            var target = parse.GetRequiredValue(directory).FullName;
            var serials = FactoryMint.Mint(target, parse.GetValue(count), parse.GetValue(key), parse.GetValue(prefix)!);
            Console.Out.WriteLine($"minted {serials.Count} devices ({serials[0]} … {serials[^1]}) in {target}; register {Path.Combine(target, FactoryMint.CaFile)} as the factory CA");
            return 0;
        });
        return command;
    }

    public static Command Bootstrap()
    {
        var directory = new Option<DirectoryInfo>("--directory", "-d") { Description = "A directory written by `mint`.", Required = true };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Devices bootstrapping at the same time.", DefaultValueFactory = _ => 8 };
        var url = new Option<string[]>("--url") { Description = "Bootstrap server base URL(s), tried in order.", AllowMultipleArgumentsPerToken = true };
        var urlFile = new Option<FileInfo?>("--url-file") { Description = "A file of bootstrap server URLs, one per line." };
        var dhcp = new Option<string?>("--dhcp-option") { Description = "The DHCP option 143 value in hex (as `Onboarding.Host dhcp-option` prints it)." };
        var trust = new Option<FileInfo?>("--trust-anchor") { Description = "PEM trust anchor(s) for the first server's TLS certificate; without it the device connects provisionally and accepts only signed data." };
        var voucherTrust = new Option<FileInfo?>("--voucher-trust-anchor") { Description = "PEM trust anchor(s) of the manufacturer's voucher signer (for signed data)." };
        var signed = new Option<bool>("--signed") { Description = "Send signed-data-preferred (with a nonce)." };
        var xml = new Option<bool>("--xml") { Description = "Speak XML instead of JSON." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "One line per device after the summary." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds per request.", DefaultValueFactory = _ => 30 };
        var retries = new Option<int>("--retries") { Description = "How often a device asks again after a 503 with Retry-After.", DefaultValueFactory = _ => 3 };
        var command = new Command("bootstrap", "Runs N simulated devices through RFC 8572 bootstrap: redirect, verification, onboarding, progress reports.")
        {
            directory, concurrency, url, urlFile, dhcp, trust, voucherTrust, signed, xml, verbose, timeout, retries,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            IReadOnlyList<Uri> servers;
            try
            {
                servers = BootstrapUrls.Resolve(parse.GetValue(url), parse.GetValue(urlFile)?.FullName, parse.GetValue(dhcp));
            }
            catch (Exception e) when (e is ArgumentException or SztpException or IOException)
            {
                await Console.Error.WriteLineAsync($"bootstrap: {e.Message}");
                return 2;
            }
            var settings = new BootstrapSettings(servers, Anchors(parse.GetValue(trust)), Anchors(parse.GetValue(voucherTrust)), parse.GetValue(signed),
                parse.GetValue(xml) ? SztpEncoding.Xml : SztpEncoding.Json, TimeSpan.FromSeconds(parse.GetValue(timeout)), MaxRetries: parse.GetValue(retries));
            var devices = DeviceIdentity.LoadDirectory(parse.GetRequiredValue(directory).FullName);
            return await BootstrapSimulation.RunWithConsoleAsync(devices, settings, parse.GetValue(concurrency), parse.GetValue(verbose), cancellationToken);
        });
        return command;
    }

    private static X509Certificate2Collection? Anchors(FileInfo? file)
    {
        if (file is null)
            return null;
        var anchors = new X509Certificate2Collection();
        anchors.ImportFromPemFile(file.FullName);
        return anchors;
    }
}
