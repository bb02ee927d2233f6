using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Onboarding.Accounts.Contracts;
using Onboarding.CallHome.Sessions;
using Onboarding.Inventory.Contracts;

namespace Onboarding.CallHome.Api;

/// <param name="LastSeen">The last activity the NMS saw on the session (the call, the end of pre-configuration).</param>
/// <param name="ConnectionId">The id the host's log lines about this connection carry.</param>
internal sealed record CallHomeSessionView(DeviceId DeviceId, string SerialNumber, DateTimeOffset Since, DateTimeOffset LastSeen,
    string? RemoteEndPoint, string ConnectionId);

internal static class CallHomeSessionsApi
{
    public static void MapCallHomeSessionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/callhome").WithTags("Call home").RequireAuthorization();
        group.MapGet("/sessions", List)
            .WithName("ListCallHomeSessions")
            .WithSummary("The caller's devices that hold a live call-home session on this host (RFC 8071), oldest first.");
    }

    private static Ok<CallHomeSessionView[]> List(ClaimsPrincipal user, CallHomeSessions sessions)
    {
        var customerId = user.GetCustomerId();
        return TypedResults.Ok(sessions.Snapshot()
            .Where(s => s.Device.CustomerId == customerId)
            .OrderBy(s => s.Since)
            .Select(s => new CallHomeSessionView(s.Device.Id, s.Device.SerialNumber, s.Since, s.LastSeen, s.RemoteEndPoint?.ToString(), s.ConnectionId))
            .ToArray());
    }
}
