using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Onboarding.DeviceSim.CallHome;
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
        var options = new BootstrapOptions();
        var verbose = new Option<bool>("--verbose", "-v") { Description = "One line per device after the summary." };
        var command = new Command("bootstrap", "Runs N simulated devices through RFC 8572 bootstrap: redirect, verification, onboarding, progress reports.") { verbose };
        options.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = parse.GetRequiredValue(options.Directory).FullName;
            if (!options.TryRead(parse, root, out var settings, out var error))
            {
                await Console.Error.WriteLineAsync($"bootstrap: {error}");
                return 2;
            }
            var devices = DeviceIdentity.LoadDirectory(root);
            return await BootstrapSimulation.RunWithConsoleAsync(devices, settings, parse.GetValue(options.Concurrency), parse.GetValue(verbose), cancellationToken);
        });
        return command;
    }
}

/// <summary>The bootstrap flags, shared by <c>bootstrap</c> and <c>onboard</c>.</summary>
internal sealed class BootstrapOptions
{
    public Option<DirectoryInfo> Directory { get; } = new("--directory", "-d") { Description = "A directory written by `mint`; each device's state goes to its state/.", Required = true };
    public Option<int> Concurrency { get; } = new("--concurrency", "-c") { Description = "Devices bootstrapping at the same time.", DefaultValueFactory = _ => 8 };
    private readonly Option<string[]> _url = new("--url") { Description = "Bootstrap server base URL(s), tried in order.", AllowMultipleArgumentsPerToken = true };
    private readonly Option<FileInfo?> _urlFile = new("--url-file") { Description = "A file of bootstrap server URLs, one per line." };
    private readonly Option<string?> _dhcp = new("--dhcp-option") { Description = "The DHCP option 143 value in hex (as `Onboarding.Host dhcp-option` prints it)." };
    private readonly Option<FileInfo?> _trust = new("--trust-anchor") { Description = "PEM trust anchor(s) for the first server's TLS certificate; without it the device connects provisionally and accepts only signed data." };
    private readonly Option<FileInfo?> _voucherTrust = new("--voucher-trust-anchor") { Description = "PEM trust anchor(s) of the manufacturer's voucher signer (for signed data)." };
    private readonly Option<bool> _signed = new("--signed") { Description = "Send signed-data-preferred (with a nonce)." };
    private readonly Option<bool> _xml = new("--xml") { Description = "Speak XML instead of JSON." };
    private readonly Option<double> _timeout = new("--timeout") { Description = "Seconds per request.", DefaultValueFactory = _ => 30 };
    private readonly Option<int> _retries = new("--retries") { Description = "How often a device asks again after a 503 with Retry-After.", DefaultValueFactory = _ => 3 };
    private readonly Option<int> _restarts = new("--restarts") { Description = "How often a device starts over from the first server after no answer, a cut connection or a 5xx (back-off 1 s doubling to 30 s); 0: it gives up.", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Directory, Concurrency, _url, _urlFile, _dhcp, _trust, _voucherTrust, _signed, _xml, _timeout, _retries, _restarts })
            command.Options.Add(option);
    }

    public bool TryRead(ParseResult parse, string root, out BootstrapSettings settings, out string? error)
    {
        settings = null!;
        error = null;
        IReadOnlyList<Uri> servers;
        try
        {
            servers = BootstrapUrls.Resolve(parse.GetValue(_url), parse.GetValue(_urlFile)?.FullName, parse.GetValue(_dhcp));
        }
        catch (Exception e) when (e is ArgumentException or SztpException or IOException)
        {
            error = e.Message;
            return false;
        }
        settings = new BootstrapSettings(servers, Anchors(parse.GetValue(_trust)), Anchors(parse.GetValue(_voucherTrust)), parse.GetValue(_signed),
            parse.GetValue(_xml) ? SztpEncoding.Xml : SztpEncoding.Json, TimeSpan.FromSeconds(parse.GetValue(_timeout)),
            MaxRetries: parse.GetValue(_retries), StateDirectory: Path.Combine(root, DeviceState.Directory), Restarts: parse.GetValue(_restarts));
        return true;
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
