using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.CallHome.Sessions;
using Onboarding.Inventory.Contracts;

namespace Onboarding.CallHome.Api;

/// <param name="LastSeen">The last activity the NMS saw on the session (the call, a keepalive answer, an RPC); the table's copy lags by up to one heartbeat.</param>
/// <param name="ConnectionId">The id the holding host's log lines about this connection carry.</param>
/// <param name="HostId">The NMS host holding the session (its id changes with every process start).</param>
internal sealed record CallHomeSessionView(DeviceId DeviceId, string SerialNumber, DateTimeOffset Since, DateTimeOffset LastSeen,
    string? RemoteEndPoint, string ConnectionId, Guid HostId);

internal static class CallHomeSessionsApi
{
    public static void MapCallHomeSessionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/callhome").WithTags("Call home").RequireAuthorization();
        group.MapGet("/sessions", List)
            .WithName("ListCallHomeSessions")
            .WithSummary("The caller's devices that hold a live call-home session (RFC 8071) on any live NMS host, with the host holding each, oldest first.");
    }

    private static async Task<Ok<CallHomeSessionView[]>> List(ClaimsPrincipal user, CallHomeRegistry registry, CallHomeSessions sessions,
        IOptions<CallHomeOptions> options, CancellationToken cancellationToken)
    {
        var customerId = user.GetCustomerId();
        var rows = await registry.ListAsync(customerId, options.Value.CallHome.HostStaleAfter, cancellationToken);
        var views = new List<CallHomeSessionView>(rows.Count);
        var listed = new HashSet<DeviceId>();
        foreach (var row in rows)
        {
            var lastSeen = row.LastSeen;
            // A session held here: its in-memory LastSeen is fresher than the last heartbeat's flush.
            if (row.HostId == registry.HostId && sessions.Find(row.DeviceId) is { } local && local.ConnectionId == row.ConnectionId && local.LastSeen > lastSeen)
                lastSeen = local.LastSeen;
            views.Add(new CallHomeSessionView(row.DeviceId, row.Serial, row.Since, lastSeen, row.RemoteEndPoint, row.ConnectionId, row.HostId));
            listed.Add(row.DeviceId);
        }

        // Sessions here whose row could not be written yet (a database hiccup; the heartbeat retries) are live all the same.
        foreach (var local in sessions.Snapshot().Where(s => s.Device.CustomerId == customerId && !s.Registered && !s.Ended && !listed.Contains(s.Device.Id)))
        {
            views.Add(new CallHomeSessionView(local.Device.Id, local.Device.SerialNumber, local.Since, local.LastSeen, local.RemoteEndPoint?.ToString(),
                local.ConnectionId, registry.HostId));
        }

        return TypedResults.Ok(views.OrderBy(v => v.Since).ToArray());
    }
}
