using System.CommandLine;
using Onboarding.DeviceSim.Bootstrap;
using Onboarding.DeviceSim.CallHome;
using Onboarding.DeviceSim.Demo;
using Onboarding.DeviceSim.Telemetry;

namespace Onboarding.DeviceSim;

/// <summary>
/// <c>Onboarding.DeviceSim telemetry -c dev1.json dev2.json -n 100 -i 0.5</c>;
/// <c>Onboarding.DeviceSim mint -d demo -n 100</c> then <c>Onboarding.DeviceSim bootstrap -d demo -c 16 --url https://redirect:8443 --trust-anchor ca.pem</c>,
/// then <c>Onboarding.DeviceSim callhome -d demo</c> (or both at once: <c>onboard</c>).
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var credentials = new Option<FileInfo[]>("--credentials", "-c")
        {
            Description = "Credential JSON files as returned by POST /api/devices/{serial}/telemetry-credential; one simulated device each.",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var messages = new Option<int>("--messages", "-n")
        {
            Description = "Messages per device; 0 runs until Ctrl+C.",
            DefaultValueFactory = _ => 0,
        };
        var interval = new Option<double>("--interval", "-i")
        {
            Description = "Seconds between a device's messages.",
            DefaultValueFactory = _ => 1.0,
        };
        var host = new Option<string?>("--host") { Description = "Broker host, instead of the one in the credentials." };
        var port = new Option<int?>("--port") { Description = "Broker TLS port, instead of the one in the credentials." };

        var telemetry = new Command("telemetry", "Runs one simulated device per credential file, publishing telemetry over MQTT/TLS with its client certificate.")
        {
            credentials, messages, interval, host, port,
        };
        telemetry.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new SimulationSettings(
                parse.GetRequiredValue(credentials).Select(f => f.FullName).ToList(),
                parse.GetValue(messages),
                TimeSpan.FromSeconds(parse.GetValue(interval)),
                parse.GetValue(host),
                parse.GetValue(port));
            var sent = await TelemetrySimulation.RunAsync(settings, Console.Out, cancellationToken);
            Console.Out.WriteLine($"{sent} messages published");
            return 0;
        });

        var root = new RootCommand("Onboarding device simulator.")
        {
            telemetry, BootstrapCommands.Mint(), BootstrapCommands.Bootstrap(), CallHomeCommands.CallHome(), CallHomeCommands.Onboard(), DemoCommand.Create(),
        };
        return await root.Parse(args).InvokeAsync();
    }
}
