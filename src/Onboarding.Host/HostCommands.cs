using Onboarding.Host.Dhcp;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Host;

/// <summary>
/// <c>Onboarding.Host</c> runs the service; <c>Onboarding.Host migrate</c> applies pending migrations and exits,
/// for deployments that migrate as a separate step (set Database:MigrateOnStartup=false on the hosts);
/// <c>Onboarding.Host broker-config &lt;dir&gt;</c> writes the Mosquitto configuration for telemetry (device CA, listeners, ACLs);
/// <c>Onboarding.Host dhcp-option &lt;uri&gt;…</c> prints DHCP option 143/136 and Kea/dnsmasq snippets (Dhcp/DhcpOptionCommand.cs).
/// </summary>
internal static class HostCommands
{
    /// <summary>
    /// The arguments for configuration: without the command and its operands, so that an absolute path such as
    /// <c>broker-config /etc/mosquitto/onboarding</c> is not read as a "/key value" configuration switch.
    /// </summary>
    public static string[] ConfigurationArguments(string[] args) => args switch
    {
        ["migrate", .. var rest] => rest,
        ["broker-config", var directory, .. var rest] when !directory.StartsWith("--", StringComparison.Ordinal) => rest,
        ["broker-config", .. var rest] => rest,
        _ => args,
    };

    /// <summary>
    /// Runs a command that needs no host (<c>dhcp-option</c>) and returns its exit code, or null for every other command.
    /// It must run before the host is built: building it generates the NMS SSH host keys and logs to stdout, neither of
    /// which a command that prints configuration to paste may do.
    /// </summary>
    public static int? RunWithoutHost(string[] args) => args switch
    {
        [DhcpOptionCommand.Name, .. var uris] => DhcpOptionCommand.Run(uris, Console.Out, Console.Error),
        _ => null,
    };

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        if (args.Length > 0 && args[0] == "migrate")
        {
            var applied = await app.Services.GetRequiredService<MigrationRunner>().MigrateAsync(CancellationToken.None);
            app.Logger.LogInformation("Database is up to date ({Applied} migrations applied)", applied);
            return 0;
        }

        if (args.Length > 0 && args[0] == "broker-config")
        {
            if (args.Length < 2)
            {
                app.Logger.LogError("Usage: Onboarding.Host broker-config <directory>");
                return 2;
            }

            if (!app.Services.GetRequiredService<HostRoles>().Has(HostRole.Nms))
            {
                app.Logger.LogError("broker-config writes the NMS telemetry broker's configuration: run it with the Nms role");
                return 2;
            }

            var config = Onboarding.Telemetry.TelemetryModule.WriteBrokerConfiguration(app.Services, args[1]);
            app.Logger.LogInformation("Mosquitto configuration written; start the broker with: mosquitto -c {Config}", config);
            return 0;
        }

        await app.RunAsync();
        return 0;
    }
}
