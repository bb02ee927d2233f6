using System.Net;
using Microsoft.Extensions.Time.Testing;
using Onboarding.ServiceDefaults.Connections;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The admission rules the SFTP drop and the call-home listener share, decision by decision: the unauthenticated caps
/// (in total and per address), slots released once, the per-address token bucket, and the refusal log folding.
/// </summary>
public sealed class ConnectionAdmissionTests
{
    private static readonly IPAddress A = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress B = IPAddress.Parse("192.0.2.2");

    private static ConnectionAdmission Admission(ConnectionAdmissionLimits limits, TimeProvider? clock = null) =>
        new(() => limits, clock ?? new FakeTimeProvider());

    [Fact]
    public void The_total_cap_refuses_until_a_slot_is_released_and_a_slot_releases_once()
    {
        using var admission = Admission(new ConnectionAdmissionLimits(MaxUnauthenticated: 3, MaxUnauthenticatedPerAddress: 10));
        var slots = Enumerable.Range(1, 3).Select(i => admission.TryAdmit(IPAddress.Parse($"198.51.100.{i}"))).ToList();
        Assert.All(slots, d => Assert.True(d.Admitted));
        Assert.Equal(3, slots[^1].Unauthenticated);

        var refused = admission.TryAdmit(IPAddress.Parse("198.51.100.9"));
        Assert.False(refused.Admitted);
        Assert.Equal(ConnectionRefusal.TooManyUnauthenticated, refused.Refusal);
        Assert.Equal(1, admission.Refused);

        slots[0].Slot!.Dispose();
        slots[0].Slot!.Dispose(); // a second release must not free a slot someone else holds
        Assert.Equal(2, admission.Unauthenticated);
        Assert.True(admission.TryAdmit(IPAddress.Parse("198.51.100.9")).Admitted);
        Assert.False(admission.TryAdmit(IPAddress.Parse("198.51.100.10")).Admitted);
    }

    [Fact]
    public void The_per_address_cap_refuses_that_address_only_and_an_IPv4_mapped_address_is_the_same_address()
    {
        using var admission = Admission(new ConnectionAdmissionLimits(MaxUnauthenticated: 100, MaxUnauthenticatedPerAddress: 2));
        Assert.True(admission.TryAdmit(A).Admitted);
        var second = admission.TryAdmit(A.MapToIPv6());
        Assert.True(second.Admitted);
        Assert.Equal(2, second.FromAddress);

        var third = admission.TryAdmit(A);
        Assert.Equal(ConnectionRefusal.TooManyUnauthenticated, third.Refusal);
        Assert.Equal(2, third.FromAddress);
        Assert.True(admission.TryAdmit(B).Admitted);

        second.Slot!.Dispose();
        Assert.True(admission.TryAdmit(A).Admitted);
    }

    [Fact]
    public void Limits_are_read_on_every_connection()
    {
        var limits = new ConnectionAdmissionLimits(MaxUnauthenticated: 1, MaxUnauthenticatedPerAddress: 1);
        using var admission = new ConnectionAdmission(() => limits, new FakeTimeProvider());
        Assert.True(admission.TryAdmit(A).Admitted);
        Assert.False(admission.TryAdmit(B).Admitted);

        limits = new ConnectionAdmissionLimits(MaxUnauthenticated: 2, MaxUnauthenticatedPerAddress: 1);
        Assert.True(admission.TryAdmit(B).Admitted);
    }

    [Fact]
    public void The_token_bucket_refuses_an_address_past_its_burst_and_leaves_other_addresses_alone()
    {
        // One token a second, a burst of 5: the sixth connection in a row from A is refused even though each released
        // its slot at once (only the rate stops it). The refill is one token per second, so a 6-call loop could at
        // worst see one refill tick: the assertion allows for exactly that.
        using var admission = Admission(new ConnectionAdmissionLimits(MaxUnauthenticated: 100, MaxUnauthenticatedPerAddress: 100,
            ConnectionsPerAddressPerSecond: 1, ConnectionBurstPerAddress: 5));
        var admitted = 0;
        ConnectionAdmissionDecision last = default;
        for (var i = 0; i < 7; i++)
        {
            last = admission.TryAdmit(A);
            if (!last.Admitted)
                break;
            admitted++;
            last.Slot!.Dispose();
        }

        Assert.InRange(admitted, 5, 6);
        Assert.Equal(ConnectionRefusal.RateLimited, last.Refusal);
        Assert.Equal(1, admission.RefusedRateLimited);
        Assert.Equal(0, admission.Unauthenticated);
        Assert.True(admission.TryAdmit(B).Admitted);
    }

    [Fact]
    public void Refusals_are_logged_once_per_interval_with_the_count_they_stand_for()
    {
        var clock = new FakeTimeProvider();
        using var admission = Admission(new ConnectionAdmissionLimits(MaxUnauthenticated: 1, MaxUnauthenticatedPerAddress: 1), clock);
        Assert.True(admission.TryAdmit(A).Admitted);

        var first = admission.TryAdmit(B);
        Assert.True(first.LogNow);
        Assert.Equal(1, first.RefusedSinceLastLog);
        for (var i = 0; i < 4; i++)
            Assert.False(admission.TryAdmit(B).LogNow);

        clock.Advance(ConnectionAdmission.LogInterval - TimeSpan.FromMilliseconds(1));
        Assert.False(admission.TryAdmit(B).LogNow);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var next = admission.TryAdmit(B);
        Assert.True(next.LogNow);
        Assert.Equal(6, next.RefusedSinceLastLog);
        Assert.Equal(7, admission.Refused);
    }
}
