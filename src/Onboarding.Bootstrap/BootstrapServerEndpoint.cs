using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Onboarding.Sztp;

namespace Onboarding.Bootstrap;

/// <summary>
/// One device-facing RFC 8572 bootstrap server on its own HTTPS port: a separate Kestrel server, so the port serves the
/// two RPCs and nothing else of the host (no customer API, no Swagger), and every request needs a client certificate.
/// TLS 1.2 and 1.3; in 1.2 OpenSSL accepts RSA PKCS#1 v1.5 signatures, which devices whose crypto chips cannot do PSS
/// need. The certificate is accepted at the TLS layer whatever it chains to: which CA to trust depends on who the device
/// claims to be, so <see cref="IBootstrapAnswers"/> decides and answers a RESTCONF error the device can log.
/// </summary>
public sealed class BootstrapServerEndpoint : IHostedService, IAsyncDisposable
{
    public const string GetBootstrappingDataPath = "/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data";
    public const string ReportProgressPath = "/restconf/operations/ietf-sztp-bootstrap-server:report-progress";
    private const string IntermediatesItem = "onboarding.sztp.intermediates";

    private readonly string _name;
    private readonly BootstrapServerOptions _options;
    private readonly Type _answersType;
    private readonly IServiceScopeFactory _scopes;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<IPEndPoint> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _server;

    internal BootstrapServerEndpoint(string name, BootstrapServerOptions options, Type answersType, IServiceScopeFactory scopes, ILoggerFactory loggers)
    {
        _name = name;
        _options = options;
        _answersType = answersType;
        _scopes = scopes;
        _loggers = loggers;
        _logger = loggers.CreateLogger($"{typeof(BootstrapServerEndpoint).FullName}.{name}");
    }

    /// <summary>Where the server listens once started (the real port when configured with 0).</summary>
    public Task<IPEndPoint> BoundEndpoint => _bound.Task;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            _logger.LogInformation("Bootstrap server {Server} disabled", _name);
            return;
        }

        var certificate = _options.ServerCertificate();
        var certificateContext = SslStreamCertificateContext.Create(certificate, [.. _options.ServerIntermediates], offline: true);

        // An empty builder: no configuration sources, so the host's Urls or Kestrel sections never rebind this port.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = $"bootstrap-{_name}" });
        builder.Services.AddSingleton(_loggers);
        builder.Services.AddLogging();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = _options.MaxRequestBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Listen(_options.ListenAddress, _options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.UseHttps(new TlsHandshakeCallbackOptions
                {
                    HandshakeTimeout = TimeSpan.FromSeconds(10),
                    OnConnection = context => ValueTask.FromResult(TlsOptions(context.Connection, certificateContext)),
                });
            });
        });

        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync(cancellationToken);
        _server = app;

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var endpoint = new IPEndPoint(_options.ListenAddress, new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)).Port);
        _bound.TrySetResult(endpoint);
        _logger.LogInformation("Bootstrap server {Server} listening on https://{Endpoint} (certificate {Subject}, not after {NotAfter:o})",
            _name, endpoint, certificate.Subject, certificate.NotAfter);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
            await _server.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }

    private static SslServerAuthenticationOptions TlsOptions(ConnectionContext connection, SslStreamCertificateContext certificate) => new()
    {
        ServerCertificateContext = certificate,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        ClientCertificateRequired = true,
        ApplicationProtocols = [SslApplicationProtocol.Http11],
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        // SslStream builds an X509Chain for the client certificate before the callback, whatever the callback does with it.
        // With the default policy that build searches the system store for a factory CA that is never there (about 4 ms of
        // wall clock per handshake in bench/, against 0.2 ms with this policy). The callback ignores the result: the answers
        // check the chain against the CA the device's claim names. A new policy per connection: SslStream adds the
        // device's intermediates to its ExtraStore.
        CertificateChainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        },
        RemoteCertificateValidationCallback = (_, presented, chain, _) =>
        {
            if (presented is null)
                return false; // no client certificate: the handshake fails, as RFC 8572 §5.3 devices always send one
            // The intermediates the device sent, for the chain check the answers make against the right CA.
            var leaf = presented.GetCertHash();
            connection.Items[IntermediatesItem] = chain?.ChainPolicy.ExtraStore.Where(c => !c.GetCertHash().AsSpan().SequenceEqual(leaf)).ToArray()
                ?? Array.Empty<X509Certificate2>();
            return true;
        },
    };

    private async Task HandleAsync(HttpContext context)
    {
        var connectionId = context.Connection.Id;
        var started = Stopwatch.GetTimestamp();
        using var scope = _logger.BeginScope(new Dictionary<string, object>
        {
            ["ConnectionId"] = connectionId,
            ["ClientAddress"] = context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            ["BootstrapServer"] = _name,
        });

        var request = context.Request;
        var requestEncoding = RestconfMediaTypes.RequestEncoding(request.ContentType);
        var encoding = RestconfMediaTypes.ResponseEncoding(request.Headers.Accept, requestEncoding ?? SztpEncoding.Json);
        var answerEncoding = encoding ?? SztpEncoding.Json;
        var status = 500;
        try
        {
            status = await DispatchAsync(context, requestEncoding, encoding, answerEncoding);
        }
        catch (SztpException ex)
        {
            // Bad input: RFC 8040 §7 malformed-message / unknown-element / too-big, with what was wrong.
            status = ex.Error == SztpError.TooLarge ? 413 : 400;
            var tag = ex.Error switch
            {
                SztpError.TooLarge => "too-big",
                SztpError.UnknownNode => "unknown-element",
                _ => "malformed-message",
            };
            _logger.LogWarning("Bootstrap request {Path} refused: {Status} {Tag}: {Reason}", request.Path.Value, status, tag, ex.Message);
            await WriteErrorAsync(context, status, new RestconfError(RestconfErrorType.Rpc, tag, ex.Message), answerEncoding);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex)
        {
            status = ex.StatusCode;
            _logger.LogWarning("Bootstrap request {Path} refused: {Status}: {Reason}", request.Path.Value, status, ex.Message);
            var tag = status == 413 ? "too-big" : "malformed-message";
            await WriteErrorAsync(context, status, new RestconfError(RestconfErrorType.Transport, tag, ex.Message), answerEncoding);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            status = 499;
            _logger.LogInformation("Bootstrap request {Path} aborted by the device", request.Path.Value);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Bootstrap request {Path} failed", request.Path.Value);
            if (!context.Response.HasStarted)
                await WriteErrorAsync(context, 500, new RestconfError(RestconfErrorType.Application, "operation-failed",
                    "The bootstrap server failed to answer; try again later."), answerEncoding);
        }
        finally
        {
            _logger.LogInformation("Bootstrap {Method} {Path} answered {Status} in {Elapsed:0.0} ms", request.Method, request.Path.Value, status,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private async Task<int> DispatchAsync(HttpContext context, SztpEncoding? requestEncoding, SztpEncoding? encoding, SztpEncoding answerEncoding)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        var isGet = path == GetBootstrappingDataPath;
        var isReport = path == ReportProgressPath;
        if (path == "/.well-known/host-meta" && HttpMethods.IsGet(request.Method))
        {
            // RFC 8040 §3.1: where the RESTCONF root is.
            context.Response.ContentType = "application/xrd+xml";
            await context.Response.WriteAsync("<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='restconf' href='/restconf'/></XRD>");
            return 200;
        }

        if (!isGet && !isReport)
            return await RefuseAsync(context, 404, new RestconfError(RestconfErrorType.Protocol, "invalid-value",
                $"No such resource: {Truncate(path)}. This bootstrap server serves {GetBootstrappingDataPath} and {ReportProgressPath}."), answerEncoding);
        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.Headers.Allow = "POST";
            return await RefuseAsync(context, 405, new RestconfError(RestconfErrorType.Protocol, "operation-not-supported",
                "RESTCONF operations are invoked with POST (RFC 8040 §4.4.2)."), answerEncoding);
        }

        if (requestEncoding is null)
            return await RefuseAsync(context, 415, new RestconfError(RestconfErrorType.Transport, "invalid-value",
                $"Content-Type {Truncate(request.ContentType ?? "")} is not supported: send {RestconfMediaTypes.YangDataJson} or {RestconfMediaTypes.YangDataXml}."), answerEncoding);
        if (encoding is null)
            return await RefuseAsync(context, 406, new RestconfError(RestconfErrorType.Transport, "invalid-value",
                $"This server answers {RestconfMediaTypes.YangDataJson} or {RestconfMediaTypes.YangDataXml}; Accept names neither."), answerEncoding);

        var certificate = context.Connection.ClientCertificate
            ?? throw new InvalidOperationException("TLS accepted a connection without a client certificate");
        var intermediates = context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(IntermediatesItem, out var items) == true
            ? (X509Certificate2[])items! : [];
        var body = await ReadBodyAsync(request, context.RequestAborted);
        var device = new DeviceRequest(certificate, intermediates, new IPEndPoint(context.Connection.RemoteIpAddress ?? IPAddress.None, context.Connection.RemotePort),
            context.Connection.Id, requestEncoding.Value);

        await using var scope = _scopes.CreateAsyncScope();
        var answers = (IBootstrapAnswers)scope.ServiceProvider.GetRequiredService(_answersType);
        var answer = isGet
            ? await answers.GetBootstrappingDataAsync(device, BootstrapServerRpc.ParseGetBootstrappingDataInput(body, requestEncoding.Value, _options.MaxRequestBytes), context.RequestAborted)
            : await answers.ReportProgressAsync(device, BootstrapServerRpc.ParseReportProgressInput(body, requestEncoding.Value, _options.MaxRequestBytes), context.RequestAborted);

        switch (answer)
        {
            case BootstrapData data when isGet:
                context.Response.StatusCode = 200;
                context.Response.ContentType = RestconfMediaTypes.Of(encoding.Value);
                await context.Response.Body.WriteAsync(BootstrapServerRpc.WriteGetBootstrappingDataOutput(data.Output, encoding.Value), context.RequestAborted);
                return 200;
            case BootstrapRecorded when isReport:
                context.Response.StatusCode = 204;
                return 204;
            case BootstrapRefusal refusal:
                _logger.LogWarning("Bootstrap request {Path} refused: {Status} {Tag} ({AppTag}): {Reason}", path, refusal.Status,
                    refusal.Error.Tag, refusal.Error.AppTag, refusal.Error.Message);
                if (refusal.RetryAfter is { } retryAfter)
                    context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return await RefuseAsync(context, refusal.Status, refusal.Error, encoding.Value);
            default:
                throw new InvalidOperationException($"{_answersType.Name} answered {answer.GetType().Name} to {path}");
        }
    }

    private async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > _options.MaxRequestBytes)
            throw new SztpException(SztpError.TooLarge, $"The request body is {request.ContentLength} bytes; at most {_options.MaxRequestBytes} are accepted.");
        using var buffer = new MemoryStream();
        // Kestrel's MaxRequestBodySize stops a chunked body that grows past the limit (BadHttpRequestException 413).
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static async Task<int> RefuseAsync(HttpContext context, int status, RestconfError error, SztpEncoding encoding)
    {
        await WriteErrorAsync(context, status, error, encoding);
        return status;
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, RestconfError error, SztpEncoding encoding)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = RestconfMediaTypes.Of(encoding);
        await context.Response.Body.WriteAsync(RestconfErrors.Write([error], encoding));
    }

    private static string Truncate(string text) => text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 80), "…");
}
