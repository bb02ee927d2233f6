using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Onboarding.ServiceDefaults.Outbox;

/// <summary>
/// Degraded (not Unhealthy: the host still serves) when a message was dead-lettered or the backlog is stale, so a
/// load balancer keeps the host while monitoring tells an operator to look at <c>GET /api/operations/outbox</c>.
/// </summary>
internal sealed class OutboxHealthCheck(OutboxStore store, IOptions<OutboxOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = await store.ReadStatusAsync(0, cancellationToken);
        var data = new Dictionary<string, object>
        {
            ["backlog"] = status.Backlog,
            ["deadLetters"] = status.DeadLetters,
            ["oldestDueAgeSeconds"] = status.OldestDueAge?.TotalSeconds ?? 0,
        };
        var problems = new List<string>();
        if (status.DeadLetters > 0)
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{status.DeadLetters} dead-lettered messages"));
        if (status.OldestDueAge > options.Value.StaleAfter)
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"the oldest due message has waited {status.OldestDueAge.Value.TotalSeconds:F0} s"));
        return problems.Count == 0
            ? HealthCheckResult.Healthy($"outbox backlog {status.Backlog}", data)
            : HealthCheckResult.Degraded(string.Join("; ", problems) + "; see GET /api/operations/outbox", data: data);
    }
}
