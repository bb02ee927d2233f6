using System.Text.Json;

namespace Onboarding.DeviceSim.Telemetry;

/// <summary>
/// One device's readings: a slow random walk around a start position, battery_level dropping by one every
/// ten messages, and strictly increasing signal dates (the NMS keys readings on serial + signal_date).
/// </summary>
internal sealed class SimulatedDevice(string deviceId, long deviceName, Random random)
{
    private double _latitude = 48.0 + random.NextDouble();
    private double _longitude = 11.0 + random.NextDouble();
    private DateTimeOffset _lastSignal = DateTimeOffset.MinValue;

    public int Sent { get; private set; }

    public double BatteryLevel => Math.Max(0, 100 - (Sent / 10));

    public byte[] NextReading(DateTimeOffset now)
    {
        var signal = now > _lastSignal ? now : _lastSignal.AddMilliseconds(1);
        _lastSignal = signal;
        _latitude = Math.Clamp(_latitude + ((random.NextDouble() - 0.5) * 0.001), -90, 90);
        _longitude = Math.Clamp(_longitude + ((random.NextDouble() - 0.5) * 0.001), -180, 180);
        var reading = new Dictionary<string, object>
        {
            ["device_id"] = deviceId,
            ["device_name"] = deviceName,
            ["latitude"] = Math.Round(_latitude, 6),
            ["longitude"] = Math.Round(_longitude, 6),
            ["battery_level"] = BatteryLevel,
            ["signal_date"] = signal.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["temperature"] = Math.Round(20 + (random.NextDouble() * 5), 2),
            ["signal_strength"] = -60 - random.Next(30),
        };
        Sent++;
        return JsonSerializer.SerializeToUtf8Bytes(reading);
    }
}
