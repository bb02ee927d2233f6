using System.Globalization;

namespace Onboarding.DeviceSim.Fleet;

/// <summary>What is wrong with a simulated device, as a real fleet has a few of each.</summary>
internal enum DeviceFault
{
    None,

    /// <summary>Its IDevID is not issued by the factory CA the manufacturer registered (a grey-market or re-flashed unit).</summary>
    WrongCert,

    /// <summary>Its IDevID is genuine, but nobody ordered its serial (shipped to the wrong customer, or never sold).</summary>
    UnknownSerial,

    /// <summary>It closes the call-home connection right after the NMS's edit-config (power cut, link flap), then dials again.</summary>
    DropMidConfig,

    /// <summary>Its real-time clock lost power and boots at 2000-01-01: every server certificate looks not yet valid to it.</summary>
    BadClock,
}

/// <summary>
/// Which devices of a run get which fault: <c>wrong-cert=5%,unknown-serial=2%,drop-mid-config=3%,bad-clock=2%</c> (a share of
/// the devices, rounded half away from zero) or absolute counts (<c>wrong-cert=1</c>). The faulty devices are picked by a
/// seeded shuffle, so one seed gives the same devices on every run.
/// </summary>
internal sealed class FaultPlan
{
    public static readonly IReadOnlyDictionary<string, DeviceFault> Names = new Dictionary<string, DeviceFault>(StringComparer.Ordinal)
    {
        ["wrong-cert"] = DeviceFault.WrongCert,
        ["unknown-serial"] = DeviceFault.UnknownSerial,
        ["drop-mid-config"] = DeviceFault.DropMidConfig,
        ["bad-clock"] = DeviceFault.BadClock,
    };

    private readonly DeviceFault[] _faults;

    private FaultPlan(DeviceFault[] faults) => _faults = faults;

    public static FaultPlan None(int devices) => new(new DeviceFault[devices]);

    /// <summary>The fault of device <paramref name="index"/> (in the run's device order).</summary>
    public DeviceFault this[int index] => _faults[index];

    public int Count(DeviceFault fault) => _faults.Count(f => f == fault);

    public static string NameOf(DeviceFault fault) => fault == DeviceFault.None ? "none" : Names.First(n => n.Value == fault).Key;

    /// <summary>Parses <paramref name="spec"/> (null, empty or "none": no faults) for <paramref name="devices"/> devices.</summary>
    /// <exception cref="ArgumentException">An unknown fault, a malformed share, or more faulty devices than devices.</exception>
    public static FaultPlan Parse(string? spec, int devices, int seed)
    {
        var faults = new DeviceFault[devices];
        if (string.IsNullOrWhiteSpace(spec) || spec.Trim() == "none")
            return new FaultPlan(faults);
        var counts = new List<(DeviceFault Fault, int Count)>();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? part : part[..equals].Trim();
            if (!Names.TryGetValue(name, out var fault))
                throw new ArgumentException($"--faults: unknown fault '{name}' (known: {string.Join(", ", Names.Keys)})");
            if (counts.Any(c => c.Fault == fault))
                throw new ArgumentException($"--faults: '{name}' is given twice");
            var value = equals < 0 ? "" : part[(equals + 1)..].Trim();
            counts.Add((fault, CountOf(name, value, devices)));
        }
        var total = counts.Sum(c => c.Count);
        if (total > devices)
            throw new ArgumentException($"--faults: {total} faulty devices, but the run has only {devices}");

        var order = Enumerable.Range(0, devices).ToArray();
        new Random(seed).Shuffle(order);
        var next = 0;
        foreach (var (fault, count) in counts)
        {
            for (var i = 0; i < count; i++)
                faults[order[next++]] = fault;
        }
        return new FaultPlan(faults);
    }

    private static int CountOf(string name, string value, int devices)
    {
        if (value.EndsWith('%')
            && double.TryParse(value[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var percent) && percent is >= 0 and <= 100)
            return (int)Math.Round(percent * devices / 100, MidpointRounding.AwayFromZero);
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            return count;
        throw new ArgumentException($"--faults: '{name}={value}' needs a share (5%) or a number of devices (3)");
    }
}
