using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Onboarding.ServiceDefaults.Security;

namespace Onboarding.ServiceDefaults.Outbox;

/// <summary><c>GET /api/operations/outbox</c>: the backlog, its age, the last error and the dead letters, for the NMS admin.</summary>
internal static class OutboxApi
{
    private const int DeadLetterLimit = 50;

    public static IEndpointRouteBuilder MapOutboxApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/operations").WithTags("Operations");
        group.MapGet("/outbox", GetStatusAsync)
            .AddEndpointFilter(AdminKey.RequireAdmin)
            .WithName("GetOutboxStatus")
            .WithSummary($"The outbox backlog, oldest due age, last error and latest {DeadLetterLimit} dead letters (admin only, X-Admin-Key).");
        return endpoints;
    }

    private static async Task<Ok<OutboxStatusView>> GetStatusAsync(OutboxStore store, IOptions<OutboxOptions> options, CancellationToken cancellationToken)
    {
        var status = await store.ReadStatusAsync(DeadLetterLimit, cancellationToken);
        var stale = status.OldestDueAge > options.Value.StaleAfter;
        return TypedResults.Ok(new OutboxStatusView(
            status.DeadLetters > 0 || stale ? "Degraded" : "Healthy",
            status.Backlog, status.Due, status.OldestDueAge?.TotalSeconds, stale, status.DeadLetters, status.LastError, status.RecentDeadLetters));
    }
}

/// <param name="OldestDueAgeSeconds">How long the oldest due message has waited; null when nothing is due.</param>
/// <param name="Stale">True when that is longer than <c>Outbox:StaleAfter</c>.</param>
public sealed record OutboxStatusView(string Health, long Backlog, long Due, double? OldestDueAgeSeconds, bool Stale, long DeadLetters,
    OutboxError? LastError, IReadOnlyList<OutboxDeadLetter> RecentDeadLetters);
