using Onboarding.DeviceSim.Bootstrap;
using Onboarding.DeviceSim.Fleet;

namespace Onboarding.DeviceSim.Tests;

/// <summary>The fleet's fault plan (which devices misbehave, and how many) and the stage bookkeeping the report is built from.</summary>
public sealed class FleetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("devicesim-fleet-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Shares_are_rounded_half_away_from_zero_and_counts_are_taken_as_they_are()
    {
        var plan = FaultPlan.Parse("wrong-cert=5%,unknown-serial=2%,drop-mid-config=3,bad-clock=2.5%", 100, seed: 1);
        Assert.Equal((5, 2, 3, 3), (plan.Count(DeviceFault.WrongCert), plan.Count(DeviceFault.UnknownSerial), plan.Count(DeviceFault.DropMidConfig),
            plan.Count(DeviceFault.BadClock)));
        Assert.Equal(87, plan.Count(DeviceFault.None));
    }

    [Fact]
    public void The_same_seed_picks_the_same_devices_and_another_seed_other_ones()
    {
        const string spec = "wrong-cert=10%,bad-clock=10%";
        var picks = (int seed) => Enumerable.Range(0, 50).Select(i => FaultPlan.Parse(spec, 50, seed)[i]).ToList();
        Assert.Equal(picks(3), picks(3));
        Assert.NotEqual(picks(3), picks(4));
    }

    [Theory]
    [InlineData("melted=1", "unknown fault 'melted'")]
    [InlineData("wrong-cert=lots", "needs a share (5%) or a number of devices")]
    [InlineData("wrong-cert=101%", "needs a share")]
    [InlineData("wrong-cert=-1", "needs a share")]
    [InlineData("wrong-cert", "needs a share")]
    [InlineData("bad-clock=1,bad-clock=2", "given twice")]
    [InlineData("wrong-cert=6,bad-clock=5", "11 faulty devices, but the run has only 10")]
    public void A_bad_fault_list_is_refused_with_a_reason(string spec, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => FaultPlan.Parse(spec, 10, 1));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_fault_list_means_no_faulty_device()
    {
        Assert.Equal(10, FaultPlan.Parse(null, 10, 1).Count(DeviceFault.None));
        Assert.Equal(10, FaultPlan.Parse(" ", 10, 1).Count(DeviceFault.None));
        Assert.Equal(10, FaultPlan.Parse("none", 10, 1).Count(DeviceFault.None));
    }

    [Fact]
    public void A_stage_keeps_the_first_time_it_was_reached_and_durations_run_from_the_stage_before()
    {
        var device = new FleetDevice("SN1", DeviceFault.None);
        var t0 = DateTimeOffset.UnixEpoch;
        device.Reach(FleetStage.PoweredOn, t0);
        device.Reach(FleetStage.Redirected, t0.AddSeconds(2));
        device.Reach(FleetStage.Redirected, t0.AddSeconds(9));
        Assert.Equal(t0.AddSeconds(2), device.At(FleetStage.Redirected));
        Assert.Equal(2, device.SecondsTo(FleetStage.Redirected));
        Assert.Null(device.SecondsTo(FleetStage.Bootstrapped));
        Assert.Equal(FleetStage.Redirected, device.LastStage);
        Assert.Equal("redirected", FleetReport.FinalState(device));

        device.Fail(FleetStage.Bootstrapped, "http-403 access-denied", "refused");
        Assert.Equal("failed before bootstrapped", FleetReport.FinalState(device));
        Assert.Equal("http-403 access-denied: refused", FleetReport.DeviceSays(device));
    }

    [Fact]
    public void Unknown_serial_devices_need_the_factory_CA_key()
    {
        FactoryMint.Mint(_dir, 2, DeviceKeyType.P256, "FT");
        File.Delete(Path.Combine(_dir, FactoryMint.CaKeyFile));
        var settings = new FleetSettings(new BootstrapSettings([new Uri("https://127.0.0.1:1/")], null, null), new CallHome.CallHomeSettings { StateDirectory = _dir },
            1, 0, TimeSpan.Zero, FaultPlan.Parse("unknown-serial=1", 2, 1), _dir);
        var e = Assert.Throws<ArgumentException>(() => new FleetRun(DeviceIdentity.LoadDirectory(_dir), settings));
        Assert.Contains(FactoryMint.CaKeyFile, e.Message, StringComparison.Ordinal);
    }
}
