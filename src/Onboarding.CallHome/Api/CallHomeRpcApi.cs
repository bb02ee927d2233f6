using System.Security.Claims;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.CallHome.Sessions;
using Onboarding.Inventory.Contracts;
using Onboarding.Netconf;
using Onboarding.Netconf.Messages;
using Onboarding.Ssh;

namespace Onboarding.CallHome.Api;

/// <summary>
/// Work on a device's live call-home session: one NETCONF RPC (RFC 6241) over a new "netconf" channel, or disconnecting
/// the session. Only the host that holds the session can serve these: a session held by another host is reached by
/// forwarding the request there (<see cref="CallHomeForwarding"/>). A device without a live session, or another
/// customer's device, is 404 alike (no probing for other customers' devices).
/// </summary>
internal static class CallHomeRpcApi
{
    /// <summary>An RPC body larger than this is refused before anything is parsed or sent.</summary>
    public const int MaxRpcBytes = 256 * 1024;

    public static void MapCallHomeRpcApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/callhome/sessions").WithTags("Call home").RequireAuthorization();
        group.MapPost("/{deviceId}/rpc", Rpc)
            .Accepts<string>("application/xml")
            .WithName("CallHomeRpc")
            .WithSummary("Sends one NETCONF RPC (the <rpc> or its operation element, XML body) over the device's live call-home session; returns the <rpc-reply>, or its rpc-errors as ProblemDetails.");
        group.MapDelete("/{deviceId}", Disconnect)
            .WithName("DisconnectCallHomeSession")
            .WithSummary("Closes the device's live call-home session, on whichever host holds it (the device will call home again when it is configured to).");
    }

    internal static LiveCallHome? Find(ClaimsPrincipal user, CallHomeSessions sessions, DeviceId deviceId) =>
        sessions.Find(deviceId) is { } live && live.Device.CustomerId == user.GetCustomerId() ? live : null;

    private static async Task<Results<ContentHttpResult, ProblemHttpResult, ForwardedResponse>> Rpc(
        DeviceId deviceId, HttpRequest request, ClaimsPrincipal user, CallHomeSessions sessions, CallHomeForwarding forwarding,
        IOptions<CallHomeOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(CallHomeRpcApi));
        var body = await ReadBoundedAsync(request.Body, MaxRpcBytes, cancellationToken);
        if (body is null)
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "RPC too large", detail: $"An RPC may be at most {MaxRpcBytes} bytes.");
        if (Find(user, sessions, deviceId) is not { } live)
        {
            return await forwarding.ForwardAsync(request, user, deviceId, body, cancellationToken) switch
            {
                { Result: ForwardedResponse relayed } => relayed,
                var other => (ProblemHttpResult)other.Result,
            };
        }

        XElement operation;
        try
        {
            // Well-formed, no DTD, bounded size and depth: the rules the NETCONF library applies to device replies.
            operation = NetconfXml.Parse(body, MaxRpcBytes);
        }
        catch (NetconfException ex)
        {
            logger.LogInformation("Call-home RPC for device {DeviceId} refused: {Reason}", deviceId, ex.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid RPC XML", detail: ex.Message);
        }

        if (operation.Name.LocalName is "close-session" or "kill-session")
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid RPC", detail: "Use DELETE on the session to end it.");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.CallHome.RpcTimeout);
        try
        {
            var channel = await live.Session.OpenSessionAsync(timeout.Token);
            await using var stream = channel.AsStream();
            if (!await channel.RequestSubsystemAsync("netconf", timeout.Token))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "No NETCONF on the device",
                    detail: "The device refused the netconf subsystem on its call-home session.");
            }

            using var netconf = await NetconfClientSession.ConnectAsync(stream, cancellationToken: timeout.Token);
            var reply = await netconf.RawRpcAsync(Encoding.UTF8.GetString(body), timeout.Token);
            live.Seen(DateTimeOffset.UtcNow);
            try
            {
                await netconf.CloseSessionAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is NetconfException or NetconfRpcException or IOException or SshConnectionLostException)
            {
                // The answer is in; a device that is sloppy about close-session does not make the RPC fail.
            }

            logger.LogInformation("Call-home RPC <{Operation}> for device {Serial} ({DeviceId}): {Outcome}", operation.Name.LocalName,
                live.Device.SerialNumber, deviceId, reply.HasErrors ? "rpc-error" : "ok");
            if (reply.HasErrors)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "The device answered with rpc-error",
                    detail: string.Join("; ", reply.Errors.Select(e => e.ToString())),
                    extensions: new Dictionary<string, object?>
                    {
                        ["rpcErrors"] = reply.Errors.Select(e => new { e.Tag, Type = e.Type.ToString(), Severity = e.Severity.ToString(), e.AppTag, e.Path, e.Message }).ToArray(),
                    });
            }

            return TypedResults.Content(reply.Element.ToString(SaveOptions.DisableFormatting), "application/xml", Encoding.UTF8);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Call-home RPC for device {Serial} ({DeviceId}) timed out", live.Device.SerialNumber, deviceId);
            return TypedResults.Problem(statusCode: StatusCodes.Status504GatewayTimeout, title: "The device did not answer in time",
                detail: $"No rpc-reply within {options.Value.CallHome.RpcTimeout.TotalSeconds:0.#} s.");
        }
        catch (Exception ex) when (ex is NetconfException or SshChannelOpenException or SshConnectionLostException or SshProtocolException or IOException)
        {
            logger.LogWarning("Call-home RPC for device {Serial} ({DeviceId}) failed: {Reason}", live.Device.SerialNumber, deviceId, ex.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The RPC failed on the device's session", detail: ex.Message);
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult, ForwardedResponse>> Disconnect(
        DeviceId deviceId, HttpRequest request, ClaimsPrincipal user, CallHomeSessions sessions, CallHomeForwarding forwarding, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        if (Find(user, sessions, deviceId) is not { } live)
        {
            return await forwarding.ForwardAsync(request, user, deviceId, body: null, cancellationToken) switch
            {
                { Result: ForwardedResponse relayed } => relayed,
                var other => (ProblemHttpResult)other.Result,
            };
        }

        await sessions.RemoveAsync(live);
        await live.Session.DisposeAsync();
        loggers.CreateLogger(typeof(CallHomeRpcApi)).LogInformation("Call-home session of device {Serial} ({DeviceId}, connection {ConnectionId}) closed by {User}",
            live.Device.SerialNumber, deviceId, live.ConnectionId, user.Identity?.Name);
        return TypedResults.NoContent();
    }

    /// <summary>The body, or null when it is longer than <paramref name="max"/> (read no further than that).</summary>
    internal static async Task<byte[]?> ReadBoundedAsync(Stream body, int max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + n > max)
                return null;
            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }
}
