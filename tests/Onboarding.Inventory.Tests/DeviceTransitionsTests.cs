using Onboarding.Inventory.Contracts;
using Onboarding.Inventory.Data;
using Onboarding.Inventory.Lifecycle;

namespace Onboarding.Inventory.Tests;

/// <summary>
/// The transition table against the lifecycle written out here once more, by hand, from DESIGN.md: every pair of
/// (no state or a state, state) is tried, both in the table and by applying it to a device.
/// </summary>
public class DeviceTransitionsTests
{
    private static readonly HashSet<(DeviceState? From, DeviceState To)> Lifecycle =
    [
        (null, DeviceState.Bookkept),
        (DeviceState.Bookkept, DeviceState.Bootstrapping),
        (DeviceState.Bootstrapping, DeviceState.CalledHome),
        (DeviceState.Bookkept, DeviceState.CalledHome),
        (DeviceState.CalledHome, DeviceState.Configured),
        (DeviceState.Configured, DeviceState.Onboarded),
        (DeviceState.Onboarded, DeviceState.Reprovisioning),
        (DeviceState.Reprovisioning, DeviceState.Bootstrapping),
        (DeviceState.Bookkept, DeviceState.Rejected),
        (DeviceState.Bootstrapping, DeviceState.Rejected),
        (DeviceState.CalledHome, DeviceState.Rejected),
        (DeviceState.Configured, DeviceState.Rejected),
        (DeviceState.Onboarded, DeviceState.Rejected),
        (DeviceState.Reprovisioning, DeviceState.Rejected),
    ];

    private static readonly DateTimeOffset Before = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = Before.AddMinutes(5);

    public static TheoryData<DeviceState?, DeviceState> AllowedPairs() => Pairs(allowed: true);

    public static TheoryData<DeviceState?, DeviceState> RefusedPairs() => Pairs(allowed: false);

    private static TheoryData<DeviceState?, DeviceState> Pairs(bool allowed)
    {
        var data = new TheoryData<DeviceState?, DeviceState>();
        foreach (var from in new DeviceState?[] { null }.Concat(Enum.GetValues<DeviceState>().Select(s => (DeviceState?)s)))
        {
            foreach (var to in Enum.GetValues<DeviceState>())
            {
                if (Lifecycle.Contains((from, to)) == allowed)
                    data.Add(from, to);
            }
        }

        return data;
    }

    [Fact]
    public void A_bookkept_device_may_call_home_without_bootstrapping_first_but_not_a_reprovisioning_one()
    {
        // A device configured to call home by other means than our bootstrap server, identified by its IDevID key.
        Assert.True(DeviceTransitions.IsAllowed(DeviceState.Bookkept, DeviceState.CalledHome));
        // A factory-reset device bootstraps again first, so its new host keys are pinned before it calls home.
        Assert.False(DeviceTransitions.IsAllowed(DeviceState.Reprovisioning, DeviceState.CalledHome));
    }

    [Fact]
    public void The_table_holds_exactly_the_lifecycle()
    {
        Assert.Equal(Lifecycle.Order().Select(p => p.ToString()), DeviceTransitions.Allowed.Order().Select(p => p.ToString()));
        // 8 × 7 pairs in all: the theories below cover every one of them.
        Assert.Equal(8 * 7, AllowedPairs().Count + RefusedPairs().Count);
    }

    [Theory]
    [MemberData(nameof(AllowedPairs))]
    public void An_allowed_transition_changes_the_state_and_appends_one_timeline_step(DeviceState? from, DeviceState to)
    {
        Assert.True(DeviceTransitions.IsAllowed(from, to));
        if (from is not { } current)
            return; // the initial step: covered by Bookkeeping_begins_with_the_one_initial_step
        var device = DeviceIn(current);

        var recorded = DeviceSteps.Apply(device, new DeviceStep(to, "test:lifecycle", "a step"), Now);

        Assert.Equal((current, to, Now), (recorded.From, recorded.To, recorded.At));
        Assert.Equal(to, device.State);
        Assert.Equal(Now, device.UpdatedAt);
        Assert.Equal(2, device.Events.Count);
        Assert.Equal((to, "test:lifecycle", "a step", Now, device.Id), (device.Events[1].State, device.Events[1].Source, device.Events[1].Detail, device.Events[1].At, device.Events[1].DeviceId));
    }

    [Theory]
    [MemberData(nameof(RefusedPairs))]
    public void Any_other_transition_is_refused_and_changes_nothing(DeviceState? from, DeviceState to)
    {
        Assert.False(DeviceTransitions.IsAllowed(from, to));
        if (from is not { } current)
            return; // no state → anything but Bookkept: a device exists only once bookkept, and Begin can only bookkeep
        var device = DeviceIn(current);

        var refused = Assert.Throws<DeviceTransitionRefusedException>(() => DeviceSteps.Apply(device, new DeviceStep(to, "test:lifecycle", "a step"), Now));

        Assert.Equal((device.Id, current, to), (refused.DeviceId, refused.From, refused.To));
        Assert.Contains($"cannot go from {current} to {to}", refused.Message, StringComparison.Ordinal);
        Assert.Equal(current, device.State);
        Assert.Equal(Before, device.UpdatedAt);
        Assert.Single(device.Events);
    }

    [Fact]
    public void Bookkeeping_begins_with_the_one_initial_step()
    {
        var device = NewDevice();

        DeviceSteps.Begin(device, "sftp:m-acme", "Bookkept from manufacturer 'Acme'", Now);

        Assert.Equal(DeviceState.Bookkept, device.State);
        Assert.Equal((Now, Now), (device.CreatedAt, device.UpdatedAt));
        var step = Assert.Single(device.Events);
        Assert.Equal((DeviceState.Bookkept, "sftp:m-acme"), (step.State, step.Source));
        Assert.Throws<InvalidOperationException>(() => DeviceSteps.Begin(device, "sftp:m-acme", "again", Now));
        Assert.Single(device.Events);
    }

    [Theory]
    [InlineData(DeviceState.Bookkept)]
    [InlineData(DeviceState.Onboarded)]
    [InlineData(DeviceState.Rejected)]
    public void A_timeline_only_step_keeps_the_state_even_a_final_one(DeviceState state)
    {
        var device = DeviceIn(state);

        var recorded = DeviceSteps.Apply(device, new DeviceStep(null, "bootstrap:192.0.2.7", "report-progress: bootstrap-initiated"), Now);

        Assert.Equal((state, state), (recorded.From, recorded.To));
        Assert.Equal(state, device.State);
        Assert.Equal(2, device.Events.Count);
        Assert.Equal(state, device.Events[1].State);
    }

    [Theory]
    [InlineData(DeviceState.Rejected, "bootstrap:x", "", "A rejection needs its reason")]
    [InlineData(DeviceState.Bootstrapping, "bootstrap:x", "  ", "needs a detail")]
    [InlineData(DeviceState.Bootstrapping, "", "started", "needs a source")]
    [InlineData(null, "", "note", "needs a source")]
    public void A_step_without_source_or_detail_is_refused_with_the_reason(DeviceState? target, string source, string detail, string reason)
    {
        var device = DeviceIn(DeviceState.Bookkept);

        var error = Assert.Throws<ArgumentException>(() => DeviceSteps.Apply(device, new DeviceStep(target, source, detail), Now));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Single(device.Events);
    }

    [Fact]
    public void A_source_longer_than_the_column_is_refused()
    {
        var device = DeviceIn(DeviceState.Bookkept);
        Assert.Throws<ArgumentException>(() => DeviceSteps.Apply(device, new DeviceStep(null, new string('s', DeviceSteps.MaxSourceLength + 1), "note"), Now));
        DeviceSteps.Apply(device, new DeviceStep(null, new string('s', DeviceSteps.MaxSourceLength), "note"), Now);
    }

    [Fact]
    public void A_value_outside_the_enum_is_refused()
    {
        var device = DeviceIn(DeviceState.Bookkept);
        Assert.Throws<ArgumentException>(() => DeviceSteps.Apply(device, new DeviceStep((DeviceState)42, "test", "note"), Now));
        Assert.Equal(DeviceState.Bookkept, device.State);
    }

    private static Device NewDevice() => new()
    {
        Id = DeviceId.New(),
        SerialNumber = "SN-1",
        Model = "MX204",
        CertificateDer = [0x30, 0x00],
        CertificateSha256 = new string('0', 64),
        CertificateSubject = "SERIALNUMBER=SN-1",
        PublicKeySha256 = new string('1', 64),
    };

    /// <summary>A device that reached <paramref name="state"/> earlier, with one step on its timeline.</summary>
    private static Device DeviceIn(DeviceState state)
    {
        var device = NewDevice();
        device.State = state;
        device.CreatedAt = device.UpdatedAt = Before;
        device.Events.Add(new DeviceEvent { DeviceId = device.Id, At = Before, State = state, Source = "test", Detail = "earlier" });
        return device;
    }
}
