using System.Net;
using System.Security.Cryptography.X509Certificates;
using Onboarding.Sztp;

namespace Onboarding.Bootstrap;

/// <summary>
/// What one bootstrap server answers devices (RFC 8572 §7): the redirect server and the NMS bootstrap server are two
/// implementations behind the one device-facing HTTPS endpoint (<see cref="BootstrapServerEndpoint"/>), which owns TLS,
/// the RESTCONF framing, content negotiation and the error envelope. Resolved from a fresh DI scope per request.
/// Bad input never reaches an implementation: the endpoint has already parsed the RPC input.
/// </summary>
public interface IBootstrapAnswers
{
    Task<BootstrapAnswer> GetBootstrappingDataAsync(DeviceRequest device, GetBootstrappingDataInput input, CancellationToken cancellationToken);

    Task<BootstrapAnswer> ReportProgressAsync(DeviceRequest device, ReportProgressInput input, CancellationToken cancellationToken);
}

/// <summary>
/// The device as TLS authenticated it: the client certificate it presented (its IDevID), with the intermediates it
/// sent, the address it came from, and the encoding it spoke (conveyed information is answered in the same one).
/// The certificate has not been checked against anything yet: whom to trust is the implementation's decision.
/// </summary>
public sealed record DeviceRequest(
    X509Certificate2 Certificate,
    IReadOnlyList<X509Certificate2> Intermediates,
    IPEndPoint? RemoteEndPoint,
    string ConnectionId,
    SztpEncoding Encoding);

/// <summary>An answer to a device: data, "done" (report-progress) or a refusal in the <c>ietf-restconf:errors</c> envelope.</summary>
public abstract record BootstrapAnswer
{
    /// <summary>200 with the get-bootstrapping-data output.</summary>
    public static BootstrapAnswer Data(GetBootstrappingDataOutput output) => new BootstrapData(output);

    /// <summary>204: the report was recorded (RFC 8040 §4.4.2, an RPC without output).</summary>
    public static BootstrapAnswer Recorded { get; } = new BootstrapRecorded();

    /// <summary>
    /// 401 access-denied: the certificate does not authenticate the device (no trusted chain). The message goes to the
    /// device; say what is wrong without naming other tenants.
    /// </summary>
    public static BootstrapAnswer NotAuthenticated(string message, string appTag) =>
        new BootstrapRefusal(401, new RestconfError(RestconfErrorType.Protocol, "access-denied", message, appTag));

    /// <summary>403 access-denied: the device is known but may not bootstrap here (order cancelled, manufacturer disabled, …).</summary>
    public static BootstrapAnswer Forbidden(string message, string appTag) =>
        new BootstrapRefusal(403, new RestconfError(RestconfErrorType.Application, "access-denied", message, appTag));

    /// <summary>404 data-missing: this server has no bootstrapping data for the device (unknown serial, no order).</summary>
    public static BootstrapAnswer NoData(string message, string appTag) =>
        new BootstrapRefusal(404, new RestconfError(RestconfErrorType.Application, "data-missing", message, appTag));

    /// <summary>400 invalid-value: the input parsed but its content is refused (e.g. a progress report out of order).</summary>
    public static BootstrapAnswer InvalidValue(string message, string appTag) =>
        new BootstrapRefusal(400, new RestconfError(RestconfErrorType.Application, "invalid-value", message, appTag));

    /// <summary>503 with Retry-After: the answer depends on something not reachable yet; the device's retry will succeed.</summary>
    public static BootstrapAnswer TryLater(string message, string appTag, TimeSpan retryAfter) =>
        new BootstrapRefusal(503, new RestconfError(RestconfErrorType.Application, "operation-failed", message, appTag), retryAfter);
}

public sealed record BootstrapData(GetBootstrappingDataOutput Output) : BootstrapAnswer;

public sealed record BootstrapRecorded : BootstrapAnswer;

public sealed record BootstrapRefusal(int Status, RestconfError Error, TimeSpan? RetryAfter = null) : BootstrapAnswer;
