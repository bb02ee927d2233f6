using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Onboarding.Mqtt;
using Onboarding.Telemetry.Data;

namespace Onboarding.Telemetry.Ingestion;

/// <summary>
/// Keeps the ingester's persistent MQTT session holding exactly the topic filters it is configured for. SUBSCRIBE only adds
/// to a session, and the session outlives the process (Session Expiry 24 h): an ingester restarted with its
/// <c>$share/</c> group switched off would otherwise hold both <c>$share/nms-ingest/devices/+/telemetry</c> and
/// <c>devices/+/telemetry</c> and receive every message twice, or the broker would keep queueing for the filter nobody
/// wants any more. So the filters a session holds are recorded per client id (<c>telemetry.ingester_subscriptions</c>),
/// and the ones no longer wanted are removed with UNSUBSCRIBE (MQTT 5.0 §3.10) before the wanted ones are subscribed.
/// </summary>
internal sealed class IngesterSubscriptions(IServiceScopeFactory scopes, TimeProvider clock, ILogger<IngesterSubscriptions> logger)
{
    private readonly Lock _gate = new();
    private bool _staleLeft;

    /// <summary>True while a recorded filter could not be unsubscribed; <see cref="RemoveStaleAsync"/> tries again.</summary>
    public bool StaleLeft
    {
        get
        {
            lock (_gate)
                return _staleLeft;
        }
    }

    /// <summary>
    /// Right after the first CONNACK: records the wanted filters, unsubscribes the recorded ones no longer wanted (when the
    /// broker kept the session, <paramref name="sessionPresent"/>; a new session holds none), then subscribes the wanted ones.
    /// </summary>
    public async Task ApplyAsync(MqttClient client, bool sessionPresent, IReadOnlyList<string> wanted, CancellationToken cancellationToken)
    {
        var clientId = client.ClientId;
        var recorded = await LoadAsync(clientId, cancellationToken);
        // Recorded before SUBSCRIBE: a crash in between must not leave a filter in the session that no later start knows of.
        await AddAsync(clientId, [.. wanted.Except(recorded, StringComparer.Ordinal)], cancellationToken);

        var stale = recorded.Except(wanted, StringComparer.Ordinal).ToList();
        if (stale.Count > 0 && !sessionPresent)
        {
            // MQTT 5.0 §3.2.2.1.1: Session Present 0, the broker holds no subscriptions for us; nothing to remove.
            logger.LogInformation("Telemetry ingester {ClientId} switches from {Old} to {New} on a new broker session: nothing to unsubscribe",
                clientId, string.Join(", ", recorded), string.Join(", ", wanted));
            await RemoveAsync(clientId, stale, cancellationToken);
        }
        else if (stale.Count > 0)
        {
            logger.LogInformation("Telemetry ingester {ClientId} switches from {Old} to {New}: unsubscribing {Stale} from its persistent session",
                clientId, string.Join(", ", recorded), string.Join(", ", wanted), string.Join(", ", stale));
            await UnsubscribeAsync(client, stale, cancellationToken);
        }

        foreach (var filter in wanted)
        {
            try
            {
                await client.SubscribeAsync(filter, MqttQualityOfService.AtLeastOnce, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or MqttProtocolException)
            {
                // The client remembers the subscription and renews it after the next CONNACK.
                logger.LogWarning("Telemetry ingester {ClientId}: the connection dropped while subscribing {Filter} ({Error}); it is renewed on reconnect",
                    clientId, filter, ex.Message);
            }
        }
    }

    /// <summary>After a later CONNACK: unsubscribes the recorded filters an earlier attempt could not remove.</summary>
    public async Task RemoveStaleAsync(MqttClient client, IReadOnlyList<string> wanted, CancellationToken cancellationToken)
    {
        var clientId = client.ClientId;
        var stale = (await LoadAsync(clientId, cancellationToken)).Except(wanted, StringComparer.Ordinal).ToList();
        if (stale.Count > 0)
            await UnsubscribeAsync(client, stale, cancellationToken);
        else
            SetStaleLeft(false);
    }

    private async Task UnsubscribeAsync(MqttClient client, List<string> stale, CancellationToken cancellationToken)
    {
        var left = false;
        foreach (var filter in stale)
        {
            try
            {
                // 0x11 (No subscription existed) is as good as 0x00: the session no longer holds the filter.
                var code = await client.UnsubscribeAsync(filter, cancellationToken);
                await RemoveAsync(client.ClientId, [filter], cancellationToken);
                logger.LogInformation("Telemetry ingester {ClientId} unsubscribed {Filter} (UNSUBACK 0x{Code:X2})", client.ClientId, filter, code);
            }
            catch (Exception ex) when (ex is MqttRequestException or MqttProtocolException or IOException or InvalidOperationException)
            {
                // Refused (≥ 0x80), a malformed UNSUBACK (the client reconnects) or the connection lost: the filter stays
                // recorded and is tried again after the next CONNACK; ingestion goes on meanwhile.
                left = true;
                logger.LogWarning("Telemetry ingester {ClientId} could not unsubscribe {Filter}: {Error}; it stays recorded and is retried after the next connect",
                    client.ClientId, filter, ex.Message);
            }
        }
        SetStaleLeft(left);
    }

    private void SetStaleLeft(bool value)
    {
        lock (_gate)
            _staleLeft = value;
    }

    private async Task<List<string>> LoadAsync(string clientId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TelemetryDbContext>();
        return await db.IngesterSubscriptions.Where(s => s.ClientId == clientId).OrderBy(s => s.Filter).Select(s => s.Filter).ToListAsync(cancellationToken);
    }

    private async Task AddAsync(string clientId, IReadOnlyList<string> filters, CancellationToken cancellationToken)
    {
        if (filters.Count == 0)
            return;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TelemetryDbContext>();
        var now = clock.GetUtcNow();
        foreach (var filter in filters)
        {
            // Idempotent: two hosts configured with one client id would take over each other's session anyway.
            await db.Database.ExecuteSqlAsync(
                $"INSERT INTO telemetry.ingester_subscriptions (client_id, filter, subscribed_at) VALUES ({clientId}, {filter}, {now}) ON CONFLICT DO NOTHING",
                cancellationToken);
        }
    }

    private async Task RemoveAsync(string clientId, IReadOnlyList<string> filters, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TelemetryDbContext>();
        await db.IngesterSubscriptions.Where(s => s.ClientId == clientId && filters.Contains(s.Filter)).ExecuteDeleteAsync(cancellationToken);
    }
}
