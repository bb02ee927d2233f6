using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.CallHome.Sessions;
using Onboarding.Inventory.Contracts;
using Onboarding.Ssh;
using Onboarding.Ssh.Connection;

namespace Onboarding.CallHome.Api;

/// <param name="Command">The command line the device's SSH server runs (RFC 4254 §6.5 "exec").</param>
internal sealed record CallHomeExecRequest(string? Command);

/// <param name="ExitStatus">RFC 4254 §6.10 exit-status; null when the device closed the channel without one.</param>
/// <param name="StdoutTruncated">The command wrote more than <see cref="CallHomeExecApi.MaxStdoutBytes"/>: the rest was not read and the channel closed.</param>
/// <param name="Stderr">Extended data (stderr), at most 64 KiB.</param>
internal sealed record CallHomeExecResult(int? ExitStatus, string Stdout, bool StdoutTruncated, string Stderr);

/// <summary>
/// One CLI command over an exec channel of the device's live call-home session (for devices managed by CLI rather than
/// NETCONF): stdout (bounded), stderr and the exit status. Forwarded to the holding host like the RPC. The command is
/// never logged (it may carry a password), only its length.
/// </summary>
internal static class CallHomeExecApi
{
    public const int MaxRequestBytes = 16 * 1024;

    public const int MaxCommandLength = 4096;

    public const int MaxStdoutBytes = 1024 * 1024;

    public static void MapCallHomeExecApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/callhome/sessions").WithTags("Call home").RequireAuthorization();
        group.MapPost("/{deviceId}/exec", Exec)
            .Accepts<CallHomeExecRequest>("application/json")
            .WithName("CallHomeExec")
            .WithSummary("Runs one CLI command over an exec channel of the device's live call-home session; returns stdout (at most 1 MiB), stderr and the exit status.");
    }

    private static async Task<Results<Ok<CallHomeExecResult>, ProblemHttpResult, ForwardedResponse>> Exec(
        DeviceId deviceId, HttpRequest request, ClaimsPrincipal user, CallHomeSessions sessions, CallHomeForwarding forwarding,
        IOptions<CallHomeOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var body = await CallHomeRpcApi.ReadBoundedAsync(request.Body, MaxRequestBytes, cancellationToken);
        if (body is null)
            return Invalid($"The request may be at most {MaxRequestBytes} bytes.");
        if (CallHomeRpcApi.Find(user, sessions, deviceId) is not { } live)
        {
            return await forwarding.ForwardAsync(request, user, deviceId, body, cancellationToken) switch
            {
                { Result: ForwardedResponse relayed } => relayed,
                var other => (ProblemHttpResult)other.Result,
            };
        }

        string command;
        try
        {
            command = JsonSerializer.Deserialize<CallHomeExecRequest>(body, JsonSerializerOptions.Web)?.Command ?? "";
        }
        catch (JsonException ex)
        {
            return Invalid("The body must be JSON {\"command\": \"...\"}: " + ex.Message);
        }

        if (command.Trim().Length == 0 || command.Length > MaxCommandLength || command.Contains('\0', StringComparison.Ordinal))
            return Invalid($"command must be 1 to {MaxCommandLength} characters without NUL.");

        var logger = loggers.CreateLogger(typeof(CallHomeExecApi));
        var timeoutAfter = options.Value.CallHome.RpcTimeout;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(timeoutAfter);
        SshChannel? channel = null;
        try
        {
            channel = await live.Session.OpenSessionAsync(timeout.Token);
            if (!await channel.ExecAsync(command, timeout.Token))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The device refused the command",
                    detail: "The device refused the exec request on its call-home session.");
            }

            var (stdout, truncated) = await ReadStdoutAsync(channel, timeout.Token);
            int? status = null;
            if (!truncated)
            {
                await channel.Completion.WaitAsync(timeout.Token);
                status = (int?)await channel.ExitStatus.WaitAsync(timeout.Token);
            }

            live.Seen(DateTimeOffset.UtcNow);
            logger.LogInformation("Call-home exec ({Length} characters) on device {Serial} ({DeviceId}) by {User}: exit status {ExitStatus}, {Bytes} bytes of stdout{Truncated}",
                command.Length, live.Device.SerialNumber, deviceId, user.Identity?.Name, status, stdout.Length, truncated ? " (truncated)" : "");
            return TypedResults.Ok(new CallHomeExecResult(status, Encoding.UTF8.GetString(stdout), truncated, channel.StandardError));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Call-home exec on device {Serial} ({DeviceId}) timed out", live.Device.SerialNumber, deviceId);
            return TypedResults.Problem(statusCode: StatusCodes.Status504GatewayTimeout, title: "The command did not finish in time",
                detail: $"The command did not finish within {timeoutAfter.TotalSeconds:0.#} s; its channel was closed.");
        }
        catch (Exception ex) when (ex is SshChannelOpenException or SshConnectionLostException or SshProtocolException or IOException)
        {
            logger.LogWarning("Call-home exec on device {Serial} ({DeviceId}) failed: {Reason}", live.Device.SerialNumber, deviceId, ex.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The command failed on the device's session", detail: ex.Message);
        }
        finally
        {
            if (channel is not null)
                await CloseAsync(channel);
        }
    }

    /// <summary>Stdout to its end, or the first <see cref="MaxStdoutBytes"/> and truncated (then nothing more is read).</summary>
    private static async Task<(byte[] Stdout, bool Truncated)> ReadStdoutAsync(SshChannel channel, CancellationToken cancellationToken)
    {
        using var stdout = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await channel.ReadAsync(buffer, cancellationToken)) > 0)
        {
            var room = MaxStdoutBytes - (int)stdout.Length;
            stdout.Write(buffer, 0, Math.Min(n, room));
            if (n > room)
                return (stdout.ToArray(), true);
        }

        return (stdout.ToArray(), false);
    }

    private static async Task CloseAsync(SshChannel channel)
    {
        try
        {
            await channel.CloseAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is SshConnectionLostException or SshProtocolException or TimeoutException or IOException)
        {
            // The answer is decided; a channel that will not close is the session's problem (the keepalive watches it).
        }
    }

    private static ProblemHttpResult Invalid(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid exec request", detail: detail);
}
