using System.Net.Http.Headers;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.CallHome.Sessions;
using Onboarding.Inventory.Contracts;

namespace Onboarding.CallHome.Api;

/// <summary>
/// Sends a sessions-API request for a device whose session another host holds (DESIGN.md "Scale-out") to that host,
/// as the caller sent it: same method, path and body, the caller's credentials (the other host authenticates the
/// customer against the same database and checks the tenant itself), and <see cref="ForwardedByHeader"/>, so the
/// receiving host serves the request from its own sessions or answers 404, never forwarding again (no loops).
/// </summary>
internal sealed class CallHomeForwarding(
    IHttpClientFactory clients,
    CallHomeRegistry registry,
    IOptions<CallHomeOptions> options,
    ILogger<CallHomeForwarding> logger)
{
    public const string ClientName = "call-home-forwarding";

    /// <summary>Marks a forwarded request (its value: the forwarding host's id).</summary>
    public const string ForwardedByHeader = "X-Onboarding-Forwarded-By";

    /// <summary>How much longer than the RPC timeout a forward may take (the holding host answers 504 itself first).</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromSeconds(15);

    /// <summary>The caller's credentials: the customer API key (<c>Onboarding.Accounts</c>), or an Authorization header.</summary>
    private static readonly string[] CredentialHeaders = ["X-Api-Key", "Authorization"];

    public static bool IsForwarded(HttpRequest request) => request.Headers.ContainsKey(ForwardedByHeader);

    /// <summary>
    /// The answer for a device without a session on this host: the holding host's answer relayed, 404 when no live host
    /// holds a session of the caller's device (or the request was forwarded already), 503/504 naming the holding host
    /// when it cannot be reached.
    /// </summary>
    public async Task<Results<ForwardedResponse, ProblemHttpResult>> ForwardAsync(HttpRequest request, ClaimsPrincipal user, DeviceId deviceId,
        byte[]? body, CancellationToken cancellationToken)
    {
        if (IsForwarded(request))
        {
            // Loop guard: the forwarding host saw the session here, but it is gone (or moved on) by now.
            logger.LogInformation("Forwarded call-home request {Method} {Path} from host {ForwardedBy}: no session of device {DeviceId} here",
                request.Method, request.Path, request.Headers[ForwardedByHeader].ToString(), deviceId);
            return NoSession();
        }

        var settings = options.Value.CallHome;
        if (await registry.FindHolderAsync(deviceId, user.GetCustomerId(), settings.HostStaleAfter, cancellationToken) is not { } holder
            || holder.HostId == registry.HostId)
            return NoSession();

        if (holder.ApiUrl is null)
        {
            logger.LogWarning("Call-home request {Method} {Path}: the session of device {DeviceId} is on host {HolderHostId}, which has no Nms:CallHome:InternalApiUrl",
                request.Method, request.Path, deviceId, holder.HostId);
            return Unavailable(holder.HostId, "That host announced no API URL (Nms:CallHome:InternalApiUrl), so requests cannot be forwarded to it.");
        }

        var target = new Uri(holder.ApiUrl.TrimEnd('/') + request.Path + request.QueryString);
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), target);
        foreach (var name in CredentialHeaders)
        {
            if (request.Headers.TryGetValue(name, out var value))
                forward.Headers.TryAddWithoutValidation(name, value.ToString());
        }

        forward.Headers.TryAddWithoutValidation(ForwardedByHeader, registry.HostId.ToString());
        if (request.Headers.Accept.Count > 0)
            forward.Headers.TryAddWithoutValidation("Accept", request.Headers.Accept.ToString());
        if (body is not null)
        {
            forward.Content = new ByteArrayContent(body);
            if (request.ContentType is { } contentType && MediaTypeHeaderValue.TryParse(contentType, out var parsed))
                forward.Content.Headers.ContentType = parsed;
        }

        var client = clients.CreateClient(ClientName);
        try
        {
            using var response = await client.SendAsync(forward, cancellationToken);
            var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            logger.LogInformation("Call-home request {Method} {Path} for device {DeviceId} forwarded to host {HolderHostId}: {Status}",
                request.Method, request.Path, deviceId, holder.HostId, (int)response.StatusCode);
            return new ForwardedResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), content, holder.HostId);
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning("Call-home request {Method} {Path} for device {DeviceId}: host {HolderHostId} at {ApiUrl} unreachable: {Reason}",
                request.Method, request.Path, deviceId, holder.HostId, holder.ApiUrl, ex.Message);
            return Unavailable(holder.HostId, $"That host could not be reached at its API URL: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Call-home request {Method} {Path} for device {DeviceId}: host {HolderHostId} at {ApiUrl} did not answer in time",
                request.Method, request.Path, deviceId, holder.HostId, holder.ApiUrl);
            return TypedResults.Problem(statusCode: StatusCodes.Status504GatewayTimeout, title: "The host holding the session did not answer in time",
                detail: $"The session is held by host {holder.HostId}, which did not answer within {(settings.RpcTimeout + Margin).TotalSeconds:0.#} s.",
                extensions: new Dictionary<string, object?> { ["hostId"] = holder.HostId });
        }
    }

    public static ProblemHttpResult NoSession() => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No call-home session",
        detail: "You have no device with a live call-home session.");

    private static ProblemHttpResult Unavailable(Guid hostId, string why) => TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "The host holding the session is unavailable", detail: $"The device's call-home session is held by host {hostId}. {why}",
        extensions: new Dictionary<string, object?> { ["hostId"] = hostId });
}

/// <summary>The holding host's answer, relayed as it is (status, content type, body).</summary>
internal sealed class ForwardedResponse(int statusCode, string? contentType, byte[] body, Guid hostId) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => statusCode;

    public Guid HostId => hostId;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.Headers["X-Onboarding-Served-By"] = hostId.ToString();
        if (contentType is not null)
            httpContext.Response.ContentType = contentType;
        if (body.Length > 0)
            await httpContext.Response.Body.WriteAsync(body, httpContext.RequestAborted);
    }
}
