using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Onboarding.DeviceSim.Bootstrap;
using Onboarding.DeviceSim.Fleet;

namespace Onboarding.DeviceSim.CallHome;

/// <summary>The <c>callhome</c> and <c>onboard</c> subcommands.</summary>
internal static class CallHomeCommands
{
    public static Command CallHome()
    {
        var directory = new Option<DirectoryInfo>("--directory", "-d") { Description = "A directory written by `mint` (its state/ holds what `bootstrap` received).", Required = true };
        var options = new CallHomeOptions(standalone: true);
        var command = new Command("callhome", "Runs N simulated devices calling the NMS home (RFC 8071 / Junos outbound-ssh) as SSH servers with a NETCONF datastore.") { directory };
        options.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = parse.GetRequiredValue(directory).FullName;
            if (!options.TryRead(parse, root, out var settings, out var error))
            {
                await Console.Error.WriteLineAsync($"callhome: {error}");
                return 2;
            }
            var devices = DeviceIdentity.LoadDirectory(root);
            return await CallHomeSimulation.RunWithConsoleAsync(devices, settings, parse.GetValue(options.Concurrency), parse.GetValue(options.Json)?.FullName,
                parse.GetValue(options.Verbose), cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// <c>onboard</c>: each device bootstraps and then calls home, as a fleet powering on (<see cref="FleetRun"/>): at most
    /// <c>-c</c> in bootstrap and <c>--callhome-concurrency</c> calling home at once, powered on all at once or spread over
    /// <c>--ramp-seconds</c>, with a share of faulty devices (<c>--faults</c>).
    /// </summary>
    public static Command Onboard()
    {
        var bootstrap = new BootstrapOptions();
        var options = new CallHomeOptions(standalone: false);
        var fleet = new FleetOptions();
        var command = new Command("onboard", "Powers on N simulated devices: each bootstraps (RFC 8572) and then calls home (RFC 8071); some may be faulty (--faults).");
        bootstrap.AddTo(command);
        options.AddTo(command);
        fleet.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = parse.GetRequiredValue(bootstrap.Directory).FullName;
            var devices = DeviceIdentity.LoadDirectory(root);
            FleetRun run;
            try
            {
                if (!bootstrap.TryRead(parse, root, out var bootstrapSettings, out var error) || !options.TryRead(parse, root, out var settings, out error))
                    throw new ArgumentException(error);
                run = new FleetRun(devices, fleet.Read(parse, bootstrapSettings, settings, parse.GetValue(bootstrap.Concurrency),
                    parse.GetValue(options.Concurrency), devices.Count, root));
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"onboard: {e.Message}");
                return 2;
            }
            var startedAt = DateTimeOffset.UtcNow;
            var watch = Stopwatch.StartNew();
            await LiveProgress.RunAsync(run.RunAsync(cancellationToken), () => FleetReport.LiveLine(run.Devices, watch.Elapsed, withNms: false), Console.Out);
            watch.Stop();

            var verbose = parse.GetValue(options.Verbose);
            var bootstrapped = run.Devices.Select(d => d.Bootstrap).OfType<DeviceOutcome>().ToList();
            BootstrapSimulation.Print(BootstrapSummary.Of(bootstrapped, watch.Elapsed), bootstrapped, verbose);
            var calledHome = run.Devices.Select(d => d.CallHome).OfType<CallHomeOutcome>().ToList();
            if (calledHome.Count > 0)
            {
                var summary = CallHomeSummary.Of(calledHome, watch.Elapsed);
                CallHomeSimulation.Print(summary, calledHome, verbose);
                if (parse.GetValue(options.Json)?.FullName is { } json)
                    await CallHomeSimulation.WriteJsonAsync(json, summary, calledHome);
            }
            FleetReport.Print(run.Devices, watch.Elapsed, withNms: false);
            if (parse.GetValue(fleet.Result)?.FullName is { } result)
                await FleetReport.WriteJsonAsync(result, run.Devices, startedAt, watch.Elapsed, withNms: false);
            return run.Devices.All(d => d.Error is null) ? 0 : 1;
        });
        return command;
    }

    /// <summary>"host:port", "[v6]:port" or "host" (RFC 8071 §3.1's port 4334).</summary>
    public static bool TryParseEndpoint(string value, out string host, out int port)
    {
        host = value;
        port = CallHomeConfigurationReader.NetconfCallHomePort;
        string? portText = null;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < value.Length && value[close + 1] != ':'))
                return false;
            host = value[1..close];
            portText = close + 1 < value.Length ? value[(close + 2)..] : null;
        }
        else if (value.Count(c => c == ':') == 1)
        {
            host = value[..value.IndexOf(':', StringComparison.Ordinal)];
            portText = value[(value.IndexOf(':', StringComparison.Ordinal) + 1)..];
        }
        if (host.Length == 0)
            return false;
        return portText is null || (int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and < 65536);
    }
}

/// <summary>The call-home flags, shared by <c>callhome</c> and <c>onboard</c>.</summary>
/// <param name="standalone"><c>callhome</c> takes <c>-c</c>; in <c>onboard</c>, <c>-c</c> is bootstrap's and this is <c>--callhome-concurrency</c>.</param>
internal sealed class CallHomeOptions(bool standalone)
{
    public Option<int> Concurrency { get; } = standalone
        ? new("--concurrency", "-c") { Description = "Devices calling home at the same time; 0: all at once (what --stay needs).", DefaultValueFactory = _ => 0 }
        : new("--callhome-concurrency") { Description = "Devices calling home at the same time; 0: all at once (what --stay needs).", DefaultValueFactory = _ => 0 };
    public Option<string?> Nms { get; } = new("--nms") { Description = "host:port to dial instead of the state file's call-home address." };
    public Option<string?> NmsKey { get; } = new("--nms-key") { Description = "The NMS client key to authorize: an authorized_keys line or a file holding one (instead of the state file's)." };
    public Option<string?> Style { get; } = new Option<string?>("--style") { Description = "netconf (no preamble) or junos (the outbound-ssh preamble); default: the state file's." }.AcceptOnlyFromAmong("netconf", "junos");
    public Option<string?> Secret { get; } = new("--secret") { Description = "The outbound-ssh secret (HOST-KEY and HMAC lines) instead of the state file's." };
    public Option<string> HostKey { get; } = new Option<string>("--host-key") { Description = "generated (the state file's ed25519 key) or idevid (RFC 6187, the IDevID certificate; P-256 only).", DefaultValueFactory = _ => "generated" }.AcceptOnlyFromAmong("generated", "idevid");
    public Option<bool> WritableRunning { get; } = new("--writable-running") { Description = "Offer :writable-running instead of :candidate." };
    public Option<bool> Cli { get; } = new("--cli") { Description = "Accept exec requests like a CLI device (commands recorded, exit 0)." };
    public Option<string?> FailCommand { get; } = new("--fail-command") { Description = "An exec command containing this text exits 1." };
    public Option<bool> Stay { get; } = new("--stay") { Description = "Keep the session up after configuration (dial again when it drops) until Ctrl+C." };
    public Option<string> Fault { get; } = new Option<string>("--fault") { Description = "none, drop-mid-config (close the socket after the first edit-config) or wrong-key (present another host key).", DefaultValueFactory = _ => "none" }.AcceptOnlyFromAmong("none", "drop-mid-config", "wrong-key");
    public Option<bool> Telemetry { get; } = new("--telemetry") { Description = "Announce urn:onboarding:telemetry:1.0: answer generate-csr (the key stays on the device) and publish telemetry with MQTTnet once the NMS delivered a certificate; implies --stay." };
    public Option<double> TelemetryInterval { get; } = new("--telemetry-interval") { Description = "Seconds between two telemetry readings.", DefaultValueFactory = _ => 1 };
    public Option<int> MaxAttempts { get; } = new("--max-attempts") { Description = "Consecutive failed connections before a device gives up; 0: never.", DefaultValueFactory = _ => 10 };
    public Option<double> RetryDelay { get; } = new("--retry-delay") { Description = "Seconds of back-off after the first failure (doubling, with jitter).", DefaultValueFactory = _ => 1 };
    public Option<double> MaxRetryDelay { get; } = new("--max-retry-delay") { Description = "Back-off cap in seconds.", DefaultValueFactory = _ => 30 };
    public Option<double> ConnectTimeout { get; } = new("--connect-timeout") { Description = "Seconds to wait for the NMS to accept the TCP connection.", DefaultValueFactory = _ => 10 };
    public Option<FileInfo?> Json { get; } = new("--json") { Description = "Write every device's result (and the summary) to this JSON file." };
    public Option<bool> Verbose { get; } = new("--verbose", "-v") { Description = "One line per device after the summary." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Concurrency, Nms, NmsKey, Style, Secret, HostKey, WritableRunning, Cli, FailCommand, Stay, Fault, Telemetry, TelemetryInterval, MaxAttempts, RetryDelay, MaxRetryDelay, ConnectTimeout, Json, Verbose })
            command.Options.Add(option);
    }

    public bool TryRead(ParseResult parse, string root, out CallHomeSettings settings, out string? error)
    {
        settings = null!;
        error = null;
        string? host = null;
        int? port = null;
        if (parse.GetValue(Nms) is { } nms)
        {
            if (!CallHomeCommands.TryParseEndpoint(nms, out var h, out var p))
            {
                error = $"--nms '{nms}' is not host:port";
                return false;
            }
            (host, port) = (h, p);
        }
        string? key = null;
        if (parse.GetValue(NmsKey) is { } keyValue)
        {
            try
            {
                key = File.Exists(keyValue) ? File.ReadAllText(keyValue).Trim() : keyValue.Trim();
                Onboarding.Ssh.Keys.SshPublicKey.ParseAuthorizedKeysLine(key);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or Onboarding.Ssh.SshProtocolException)
            {
                error = $"--nms-key: {e.Message}";
                return false;
            }
        }
        if (parse.GetValue(MaxAttempts) < 0 || parse.GetValue(RetryDelay) < 0 || parse.GetValue(MaxRetryDelay) < 0 || parse.GetValue(ConnectTimeout) <= 0
            || parse.GetValue(TelemetryInterval) <= 0)
        {
            error = "--max-attempts, --retry-delay and --max-retry-delay must not be negative, --connect-timeout and --telemetry-interval must be positive";
            return false;
        }
        settings = new CallHomeSettings
        {
            StateDirectory = Path.Combine(root, DeviceState.Directory),
            NmsHost = host,
            NmsPort = port,
            ClientKey = key,
            Style = parse.GetValue(Style) switch { "junos" => CallHomeStyle.Junos, "netconf" => CallHomeStyle.Netconf, _ => null },
            DeviceSecret = parse.GetValue(Secret),
            HostKey = parse.GetValue(HostKey) == "idevid" ? HostKeySource.IdevId : HostKeySource.Generated,
            WritableRunningOnly = parse.GetValue(WritableRunning),
            Cli = parse.GetValue(Cli),
            FailingCommand = parse.GetValue(FailCommand),
            // A device that publishes telemetry keeps running: its session and its MQTT connection stay up until Ctrl+C.
            Stay = parse.GetValue(Stay) || parse.GetValue(Telemetry),
            Telemetry = parse.GetValue(Telemetry),
            TelemetryInterval = TimeSpan.FromSeconds(parse.GetValue(TelemetryInterval)),
            TelemetryLog = parse.GetValue(Telemetry) ? Console.Out : null,
            Fault = parse.GetValue(Fault) switch { "drop-mid-config" => CallHomeFault.DropMidConfig, "wrong-key" => CallHomeFault.WrongKey, _ => CallHomeFault.None },
            MaxAttempts = parse.GetValue(MaxAttempts),
            BaseDelay = TimeSpan.FromSeconds(parse.GetValue(RetryDelay)),
            MaxDelay = TimeSpan.FromSeconds(parse.GetValue(MaxRetryDelay)),
            ConnectTimeout = TimeSpan.FromSeconds(parse.GetValue(ConnectTimeout)),
        };
        return true;
    }
}
