using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Drop.Data;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.ServiceDefaults.Outbox;
using Onboarding.ServiceDefaults.Security;

namespace Onboarding.IntegrationTests;

/// <summary>The host with an admin key and a short staleness limit, so the outbox's operator view can be exercised.</summary>
public sealed class OutboxFactory : OnboardingFactory
{
    public const string AdminApiKey = "outbox-admin-key-0123456789abcdef";

    public OutboxFactory()
    {
        With("Admin:ApiKey", AdminApiKey);
        With("Outbox:StaleAfter", "00:00:01");
    }

    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add(AdminKey.HeaderName, AdminApiKey);
        return client;
    }
}

/// <summary>The transactional outbox on real PostgreSQL: each rig is one host's outbox with a handler of the test's own type.</summary>
public class OutboxTests(OutboxFactory factory) : IClassFixture<OutboxFactory>
{
    private static string NewType(string purpose) => $"test.{purpose}.{Guid.NewGuid():N}";

    private OutboxRig Rig(string type, Func<OutboxMessage, CancellationToken, Task> handle, OutboxOptions? options = null) =>
        new(factory.ConnectionString, type, handle, options);

    [Fact]
    public async Task A_rolled_back_change_loses_its_message_and_a_committed_one_is_delivered_once()
    {
        var type = NewType("commit");
        var log = new DeliveryLog();
        await using var rig = Rig(type, (m, _) => log.RecordAsync(m, TimeSpan.Zero));
        using var scope = factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DropDbContext>();

        Guid rolledBack;
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            rolledBack = await rig.Outbox.EnqueueAsync(db, type, new { n = 1 }, CancellationToken.None);
            await transaction.RollbackAsync();
        }

        Guid committed;
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            committed = await rig.Outbox.EnqueueAsync(db, type, new { n = 2 }, CancellationToken.None);
            await transaction.CommitAsync();
        }

        while (await rig.Dispatcher.DispatchOnceAsync(CancellationToken.None) > 0)
        {
        }

        Assert.Null(await rig.ReadAsync(rolledBack));
        Assert.Equal(0, log.Deliveries(rolledBack));
        Assert.Equal(1, log.Deliveries(committed));
        Assert.Equal("done", (await rig.ReadAsync(committed))!.State);
    }

    [Fact]
    public async Task Enqueue_outside_a_transaction_is_refused_with_a_clear_error()
    {
        await using var rig = Rig(NewType("no-transaction"), (_, _) => Task.CompletedTask);
        using var scope = factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DropDbContext>();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => rig.Outbox.EnqueueAsync(db, "test.x", new { }, CancellationToken.None));

        Assert.Contains("caller's transaction", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_dispatchers_never_run_one_message_twice_concurrently_and_together_run_each_once()
    {
        var type = NewType("race");
        var log = new DeliveryLog();
        var options = new OutboxOptions { BatchSize = 3 };
        await using var first = Rig(type, (m, _) => log.RecordAsync(m, TimeSpan.FromMilliseconds(15)), options);
        await using var second = Rig(type, (m, _) => log.RecordAsync(m, TimeSpan.FromMilliseconds(15)), options);
        var ids = new List<Guid>();
        for (var i = 0; i < 40; i++)
            ids.Add(await first.EnqueueCommittedAsync(type, new { i }));

        // Both hosts also try to process some messages inline at the same time, as CLOSE does.
        var inline = ids.Where((_, i) => i % 4 == 0).Select(id => Task.Run(() => second.Outbox.ProcessNowAsync(id, CancellationToken.None)));
        var counts = await Task.WhenAll(Task.Run(() => DrainAsync(first)), Task.Run(() => DrainAsync(second)));
        await Task.WhenAll(inline);
        await DrainAsync(first);

        Assert.All(ids, id => Assert.Equal(1, log.Deliveries(id)));
        Assert.Equal(1, log.MaxConcurrentPerMessage);
        Assert.All(counts, c => Assert.True(c > 0, "each dispatcher should have claimed some of the 40 messages"));
    }

    private static async Task<int> DrainAsync(OutboxRig rig)
    {
        var total = 0;
        int claimed;
        while ((claimed = await rig.Dispatcher.DispatchOnceAsync(CancellationToken.None)) > 0)
            total += claimed;
        return total;
    }

    [Fact]
    public async Task A_failing_message_backs_off_longer_each_time_then_is_dead_lettered_with_its_reason()
    {
        var type = NewType("failing");
        var options = new OutboxOptions { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(10), MaxAttempts = 4 };
        await using var rig = Rig(type, (_, _) => throw new InvalidOperationException("the printer is on fire"), options);
        var id = await rig.EnqueueCommittedAsync(type, new { job = 7 });

        // The stored wait is due_at − last_attempt_at: the back-off plus the time from claim to failure, which the
        // dispatch call bounds from above. Each attempt's back-off lies in [½, 1]·100 ms·2^(n−1).
        var waits = new List<(TimeSpan Wait, TimeSpan Dispatch)>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        OutboxRig.MessageRow row;
        while ((row = (await rig.ReadAsync(id))!).State == "pending")
        {
            Assert.True(DateTime.UtcNow < deadline, "the message should be dead-lettered within 30 s");
            var dispatch = Stopwatch.StartNew();
            if (await rig.Dispatcher.DispatchOnceAsync(CancellationToken.None) == 0)
            {
                await Task.Delay(20);
                continue;
            }

            dispatch.Stop();
            var after = (await rig.ReadAsync(id))!;
            if (after.State == "pending")
                waits.Add((after.RetryAfter!.Value, dispatch.Elapsed));
        }

        Assert.Equal("dead", row.State);
        Assert.Equal(4, row.Attempts);
        Assert.Equal("InvalidOperationException: the printer is on fire", row.LastError);
        Assert.Equal(3, waits.Count);
        for (var n = 1; n <= waits.Count; n++)
        {
            var (wait, dispatched) = waits[n - 1];
            var full = TimeSpan.FromMilliseconds(100 * Math.Pow(2, n - 1));
            // 1 ms of slack either side: PostgreSQL keeps microseconds, the clocks are not the same.
            Assert.True(wait >= (full / 2) - TimeSpan.FromMilliseconds(1) && wait <= full + dispatched + TimeSpan.FromMilliseconds(1),
                $"wait after attempt {n}: {wait}, expected {full / 2}..{full} plus at most the dispatch's {dispatched}");
        }
    }

    [Theory]
    [InlineData(1, 0.0, 1000)]
    [InlineData(1, 1.0, 2000)]
    [InlineData(2, 0.0, 2000)]
    [InlineData(3, 1.0, 8000)]
    [InlineData(10, 1.0, 60000)]
    [InlineData(10, 0.0, 30000)]
    [InlineData(1000, 1.0, 60000)]
    public void Backoff_doubles_from_the_base_with_jitter_in_the_upper_half_and_stops_at_the_cap(int attempt, double random, double expectedMs)
    {
        var options = new OutboxOptions { BaseDelay = TimeSpan.FromSeconds(2), MaxDelay = TimeSpan.FromMinutes(1) };

        Assert.Equal(expectedMs, OutboxBackoff.Delay(attempt, options, random).TotalMilliseconds, 3);
    }

    [Fact]
    public async Task A_message_whose_host_died_mid_handler_comes_back_when_the_lease_runs_out()
    {
        var type = NewType("lease");
        var log = new DeliveryLog();
        var options = new OutboxOptions { LeaseDuration = TimeSpan.FromSeconds(1) };
        await using var survivor = Rig(type, (m, _) => log.RecordAsync(m, TimeSpan.Zero), options);
        var id = await survivor.EnqueueCommittedAsync(type, new { });
        // A host claims it and dies without finishing: its claim is all that is left of it.
        var claimed = await survivor.Store.ClaimByIdAsync(id, new Lease(Guid.NewGuid(), options.LeaseDuration, "dead-host:1"), options.MaxAttempts, CancellationToken.None);
        Assert.NotNull(claimed);

        Assert.Equal(0, await survivor.Dispatcher.DispatchOnceAsync(CancellationToken.None));
        Assert.Equal(OutboxRunResult.NotClaimed, (await survivor.Outbox.ProcessNowAsync(id, CancellationToken.None)).Result);
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        while (await survivor.Dispatcher.DispatchOnceAsync(CancellationToken.None) > 0)
        {
        }

        var row = (await survivor.ReadAsync(id))!;
        Assert.Equal(("done", 2), (row.State, row.Attempts));
        Assert.Equal(1, log.Deliveries(id));
        Assert.Equal(TransactionalOutbox.HostId, row.LockedBy);
    }

    [Fact]
    public async Task Operators_see_backlog_age_last_error_and_dead_letters_and_health_degrades()
    {
        var deadType = NewType("dead");
        await using var rig = Rig(deadType, (_, _) => throw new TimeoutException("peer never answered"), new OutboxOptions { MaxAttempts = 1 });
        using var admin = factory.CreateAdminClient();
        var before = (await admin.GetFromJsonAsync<OutboxStatusView>("/api/operations/outbox"))!;

        // One message no handler on any host takes (it only waits), one that fails for good.
        var waiting = await rig.EnqueueCommittedAsync(NewType("unhandled"), new { });
        var dead = await rig.EnqueueCommittedAsync(deadType, new { order = "SN-1" });
        Assert.Equal(OutboxRunResult.Failed, (await rig.Outbox.ProcessNowAsync(dead, CancellationToken.None)).Result);
        await Task.Delay(TimeSpan.FromSeconds(1.2));

        var status = (await admin.GetFromJsonAsync<OutboxStatusView>("/api/operations/outbox"))!;
        Assert.Equal(before.Backlog + 1, status.Backlog);
        Assert.Equal(before.DeadLetters + 1, status.DeadLetters);
        Assert.True(status.OldestDueAgeSeconds >= 1, $"oldest due age {status.OldestDueAgeSeconds}");
        Assert.True(status.Stale);
        Assert.Equal("Degraded", status.Health);
        Assert.Equal(dead, status.LastError!.MessageId);
        Assert.Equal("TimeoutException: peer never answered", status.LastError.Error);
        var letter = Assert.Single(status.RecentDeadLetters, d => d.Failure.MessageId == dead);
        Assert.Equal((deadType, "dead", 1), (letter.Failure.Type, letter.Failure.State, letter.Failure.Attempts));
        Assert.Contains("SN-1", letter.Payload, StringComparison.Ordinal);
        Assert.Equal("pending", (await rig.ReadAsync(waiting))!.State);

        using var anonymous = factory.CreateClient();
        var health = await anonymous.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Degraded", await health.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_outbox_endpoint_is_for_the_admin_only()
    {
        using var anonymous = factory.CreateClient();
        var (customer, _) = await factory.SignUpAsync("Outbox Curious Telecom");
        using var wrongKey = factory.CreateClient();
        wrongKey.DefaultRequestHeaders.Add(AdminKey.HeaderName, "not-the-admin-key");

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/operations/outbox")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongKey.GetAsync("/api/operations/outbox")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.GetAsync("/api/operations/outbox")).StatusCode);
        Assert.DoesNotContain(factory.Logs.RenderedMessages, m => m.Contains(OutboxFactory.AdminApiKey, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("MaxAttempts", 0, "Outbox:MaxAttempts")]
    [InlineData("BatchSize", 0, "Outbox:BatchSize")]
    [InlineData("MaxDelay", 1, "Outbox:MaxDelay must be at least Outbox:BaseDelay")]
    public void Settings_that_would_break_the_dispatcher_are_refused_by_name(string setting, int value, string message)
    {
        var options = new OutboxOptions();
        switch (setting)
        {
            case "MaxAttempts": options.MaxAttempts = value; break;
            case "BatchSize": options.BatchSize = value; break;
            default: options.MaxDelay = TimeSpan.FromMilliseconds(value); break;
        }

        var result = new OutboxOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }
}
