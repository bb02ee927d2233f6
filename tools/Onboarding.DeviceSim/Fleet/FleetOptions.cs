using System.CommandLine;
using Onboarding.DeviceSim.Bootstrap;
using Onboarding.DeviceSim.CallHome;

namespace Onboarding.DeviceSim.Fleet;

/// <summary>The fleet flags of <c>onboard</c> and <c>demo</c>: power-on ramp, faulty devices, the JSON result file.</summary>
internal sealed class FleetOptions
{
    public Option<double> RampSeconds { get; } = new("--ramp-seconds") { Description = "Spread the power-on over this many seconds (device i of N at i/N of it); 0: all at once.", DefaultValueFactory = _ => 0 };
    public Option<string?> Faults { get; } = new("--faults") { Description = "Faulty devices, as shares or counts: wrong-cert=5%,unknown-serial=2%,drop-mid-config=3%,bad-clock=2%." };
    public Option<int> Seed { get; } = new("--seed") { Description = "Seed for picking the faulty devices (the same seed picks the same devices).", DefaultValueFactory = _ => 1 };
    public Option<FileInfo?> Result { get; } = new("--result") { Description = "Write every device's result (final stage, per-stage times and durations, error) to this JSON file." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { RampSeconds, Faults, Seed, Result })
            command.Options.Add(option);
    }

    /// <exception cref="ArgumentException">Not a ramp between 0 and a day.</exception>
    public TimeSpan Ramp(ParseResult parse)
    {
        var ramp = parse.GetValue(RampSeconds);
        if (ramp < 0 || double.IsNaN(ramp) || ramp > TimeSpan.FromDays(1).TotalSeconds)
            throw new ArgumentException("--ramp-seconds must be between 0 and 86400");
        return TimeSpan.FromSeconds(ramp);
    }

    /// <exception cref="ArgumentException">A bad ramp or fault list.</exception>
    public FleetSettings Read(ParseResult parse, BootstrapSettings bootstrap, CallHomeSettings callHome, int bootstrapConcurrency, int callHomeConcurrency,
        int devices, string factoryDirectory)
    {
        var ramp = Ramp(parse);
        if (bootstrapConcurrency <= 0 || callHomeConcurrency < 0)
            throw new ArgumentException("-c must be positive and --callhome-concurrency must not be negative");
        return new FleetSettings(bootstrap, callHome, bootstrapConcurrency, callHomeConcurrency, ramp,
            FaultPlan.Parse(parse.GetValue(Faults), devices, parse.GetValue(Seed)), factoryDirectory);
    }
}
