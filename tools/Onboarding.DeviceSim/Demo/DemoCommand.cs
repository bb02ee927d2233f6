using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Onboarding.DeviceSim.Bootstrap;
using Onboarding.DeviceSim.CallHome;
using Onboarding.DeviceSim.Fleet;
using Onboarding.Sztp;

namespace Onboarding.DeviceSim.Demo;

/// <summary>
/// <c>demo</c>: the whole onboarding flow against one host with both roles, from sign-up to the owner's webhook, for N
/// devices of which a share may be faulty; a live view by stage, then the report, checked against the NMS's REST API.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The default faults: a few of each kind, so the report has something to explain.</summary>
    public const string DefaultFaults = "wrong-cert=2%,unknown-serial=2%,drop-mid-config=3%,bad-clock=2%";

    public static Command Create()
    {
        var api = new Option<string>("--api") { Description = "The host's base URL (both roles).", DefaultValueFactory = _ => "http://localhost:8080" };
        var devices = new Option<int>("--devices", "-n") { Description = "Devices to mint, order and power on.", DefaultValueFactory = _ => 100 };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Devices in RFC 8572 bootstrap at once.", DefaultValueFactory = _ => 16 };
        var callHomeConcurrency = new Option<int>("--callhome-concurrency") { Description = "Devices calling home at once; 0: no limit.", DefaultValueFactory = _ => 0 };
        var workDir = new Option<DirectoryInfo>("--work-dir") { Description = "Where each run keeps its factory material, keys and result (a subdirectory per run).", DefaultValueFactory = _ => new DirectoryInfo(".data/demo") };
        var settle = new Option<double>("--settle-seconds") { Description = "How long to wait, after the devices are done, for the NMS to onboard and notify.", DefaultValueFactory = _ => 60 };
        var hookPort = new Option<int>("--hook-port") { Description = "Loopback port of the demo's webhook receiver; 0: a free one.", DefaultValueFactory = _ => 0 };
        var retryDelay = new Option<double>("--retry-delay") { Description = "Seconds of call-home back-off after a device's first failed attempt (doubling, with jitter).", DefaultValueFactory = _ => 1 };
        var fleet = new FleetOptions();
        var command = new Command("demo", "The one-command demo: sets up a customer, a manufacturer, orders and a template through the host's API, powers on N devices (some faulty) and reports by stage.")
        {
            api, devices, concurrency, callHomeConcurrency, workDir, settle, hookPort, retryDelay,
        };
        fleet.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var count = parse.GetValue(devices);
            if (count <= 0 || parse.GetValue(concurrency) <= 0 || parse.GetValue(callHomeConcurrency) < 0
                || !Uri.TryCreate(parse.GetValue(api), UriKind.Absolute, out var baseAddress) || parse.GetValue(settle) < 0 || parse.GetValue(retryDelay) < 0)
            {
                await Console.Error.WriteLineAsync("demo: -n and -c must be positive, --api an absolute URL, --callhome-concurrency, --settle-seconds and --retry-delay not negative");
                return 2;
            }
            try
            {
                var faults = parse.GetValue(fleet.Faults) ?? DefaultFaults;
                var runId = DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2));
                var directory = Path.Combine(parse.GetValue(workDir)!.FullName, runId);
                var options = new DemoOptions(baseAddress, count, parse.GetValue(concurrency), parse.GetValue(callHomeConcurrency), directory,
                    TimeSpan.FromSeconds(parse.GetValue(settle)), parse.GetValue(hookPort), TimeSpan.FromSeconds(parse.GetValue(retryDelay)),
                    faults.Trim() == "none" ? null : faults, parse.GetValue(fleet.Seed), fleet.Ramp(parse), parse.GetValue(fleet.Result)?.FullName);
                return await RunAsync(options, Console.Out, cancellationToken);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"demo: {e.Message}");
                return 2;
            }
            catch (DemoSetupException e)
            {
                await Console.Error.WriteLineAsync($"demo: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    internal sealed record DemoOptions(Uri Api, int Devices, int Concurrency, int CallHomeConcurrency, string Directory, TimeSpan Settle, int HookPort,
        TimeSpan RetryDelay, string? Faults, int Seed, TimeSpan Ramp, string? ResultFile);

    /// <summary>The demo; 0 when every device without a fault ended Onboarded with its owner notified.</summary>
    public static async Task<int> RunAsync(DemoOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var plan = FaultPlan.Parse(options.Faults, options.Devices, options.Seed);
        var factory = Path.Combine(options.Directory, "factory");
        var serials = FactoryMint.Mint(factory, options.Devices, DeviceKeyType.P256, "DEMO");
        output.WriteLine($"run {Path.GetFileName(options.Directory)}: minted {serials.Count} devices in {factory}");

        using var http = new HttpClient { BaseAddress = options.Api, Timeout = TimeSpan.FromSeconds(60) };
        var setup = new DemoSetup(http);
        await setup.WaitForHostAsync(TimeSpan.FromSeconds(120), cancellationToken);
        using var sink = WebhookSink.Start(options.HookPort);
        var accounts = await setup.RunAsync(Path.GetFileName(options.Directory), await File.ReadAllTextAsync(Path.Combine(factory, FactoryMint.CaFile), cancellationToken),
            serials, sink.Url, cancellationToken);
        sink.Secret = accounts.WebhookSecret;
        var customerKeyFile = Path.Combine(options.Directory, "customer-api-key");
        WritePrivate(customerKeyFile, accounts.CustomerKey);
        WritePrivate(Path.Combine(options.Directory, "manufacturer-api-key"), accounts.ManufacturerKey);
        output.WriteLine($"customer, manufacturer (factory CA, hand-off bundle), device type {accounts.DeviceType}, {serials.Count} orders, "
            + $"pre-configuration template and webhook {sink.Url} set up; powering on (faults: {options.Faults ?? "none"})");

        var anchors = new X509Certificate2Collection();
        anchors.ImportFromPem(accounts.RedirectTrustAnchorPem);
        var state = Path.Combine(factory, DeviceState.Directory);
        var bootstrap = new BootstrapSettings([accounts.RedirectUrl], anchors, null, Signed: false, SztpEncoding.Json, TimeSpan.FromSeconds(60), StateDirectory: state);
        var callHome = new CallHomeSettings { StateDirectory = state, BaseDelay = options.RetryDelay };
        var run = new FleetRun(DeviceIdentity.LoadDirectory(factory),
            new FleetSettings(bootstrap, callHome, options.Concurrency, options.CallHomeConcurrency, options.Ramp, plan, factory));
        sink.Received = notification =>
        {
            if (notification is { Event: "device.onboarded", SignatureValid: true }
                && run.Devices.FirstOrDefault(d => d.PresentedSerial == notification.Serial) is { } device)
                device.Reach(FleetStage.Notified, notification.At);
        };

        var nms = new NmsAccount(http, accounts.CustomerKey);
        var startedAt = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        var onboarded = 0;
        using var stopPolling = new CancellationTokenSource();
        var poller = Task.Run(async () =>
        {
            while (!stopPolling.IsCancellationRequested)
            {
                try
                {
                    Volatile.Write(ref onboarded, await nms.CountAsync("Onboarded", stopPolling.Token));
                    await Task.Delay(1000, stopPolling.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception e) when (e is HttpRequestException or DemoSetupException)
                {
                    // A live count is best effort; the report reads every device afterwards.
                }
            }
        }, CancellationToken.None);

        async Task DevicesThenSettleAsync()
        {
            await run.RunAsync(cancellationToken);
            // The NMS onboards after the device's commit (verify with get-config) and notifies from its outbox: give it time.
            var deadline = DateTimeOffset.UtcNow + options.Settle;
            while (DateTimeOffset.UtcNow < deadline)
            {
                var configured = run.Devices.Count(d => d.Reached(FleetStage.Configured));
                var nowOnboarded = await nms.CountAsync("Onboarded", cancellationToken);
                Volatile.Write(ref onboarded, nowOnboarded);
                if (nowOnboarded >= configured && run.Devices.Count(d => d.Reached(FleetStage.Notified)) >= nowOnboarded)
                    return;
                await Task.Delay(500, cancellationToken);
            }
        }

        await LiveProgress.RunAsync(DevicesThenSettleAsync(),
            () => FleetReport.LiveLine(run.Devices, watch.Elapsed, withNms: true, s => s == FleetStage.Onboarded ? Volatile.Read(ref onboarded) : null), output);
        watch.Stop();
        await stopPolling.CancelAsync();
        await poller;

        await Parallel.ForEachAsync(run.Devices, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (device, ct) => await nms.ReadAsync(device, ct));
        FleetReport.Print(run.Devices, watch.Elapsed, withNms: true);
        var result = options.ResultFile ?? Path.Combine(options.Directory, "result.json");
        await FleetReport.WriteJsonAsync(result, run.Devices, startedAt, watch.Elapsed, withNms: true);

        PrintWhereToLook(output, options, customerKeyFile, result, run.Devices);
        return run.Devices.Where(d => d.Fault == DeviceFault.None).All(d => d.Nms?.State == "Onboarded" && d.Reached(FleetStage.Notified)) ? 0 : 1;
    }

    private static void PrintWhereToLook(TextWriter output, DemoOptions options, string customerKeyFile, string result, IReadOnlyList<FleetDevice> devices)
    {
        var api = options.Api.ToString().TrimEnd('/');
        var example = devices.FirstOrDefault(d => d.Fault == DeviceFault.DropMidConfig && d.Nms?.DeviceId is not null)
            ?? devices.FirstOrDefault(d => d.Nms?.DeviceId is not null);
        output.WriteLine();
        output.WriteLine($"result file: {result}");
        output.WriteLine($"customer API key: {customerKeyFile} (manufacturer's: {Path.Combine(options.Directory, "manufacturer-api-key")})");
        output.WriteLine("everything stays visible through the REST API, e.g.:");
        output.WriteLine($"  KEY=$(cat {customerKeyFile})");
        output.WriteLine($"  curl -s '{api}/api/devices?pageSize=500' -H \"X-Api-Key: $KEY\" | jq -r '.items[] | \"\\(.serialNumber) \\(.state)\"'");
        if (example?.Nms?.DeviceId is { } id)
            output.WriteLine($"  curl -s {api}/api/devices/{id}/timeline -H \"X-Api-Key: $KEY\" | jq -r '.steps[] | \"\\(.at) \\(.state)\\t\\(.detail)\"'   # {example.PresentedSerial}");
        output.WriteLine($"  curl -s '{api}/api/notifications?pageSize=500' -H \"X-Api-Key: $KEY\" | jq -r '.items[] | \"\\(.serialNumber) \\(.event) \\(.status)\"'");
    }

    private static void WritePrivate(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text + "\n");
    }
}
