using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Onboarding.DeviceSim.CallHome;
using Onboarding.Ssh.Keys;
using Onboarding.Sztp;
using DeviceHostKey = Onboarding.Ssh.Keys.SshHostKey;
using ReportedHostKey = Onboarding.Sztp.SshHostKey;

namespace Onboarding.DeviceSim.Bootstrap;

/// <summary>What every simulated device is told: where to start, whom to trust, what to ask for.</summary>
/// <param name="TrustAnchors">The first servers' TLS trust anchors; null: connect provisionally (RFC 8572 §5.3) and accept only signed data.</param>
/// <param name="VoucherTrustAnchors">The manufacturer's voucher-signing trust anchors the device was built with (RFC 8572 §5.4).</param>
/// <param name="MaxRetries">How often a device asks a server again after a 503 with Retry-After ("not yet", e.g. its record is still on its way to the NMS).</param>
/// <param name="MaxRetryAfter">The longest Retry-After a device waits (default 60 s); a longer one counts as this.</param>
/// <param name="StateDirectory">Where each device keeps its host key and what it received (<see cref="DeviceState"/>); null: a fresh host key per run, nothing kept.</param>
/// <param name="ClockSkew">How far the device's clock is off (a device whose real-time clock lost power boots in the past): it
/// judges certificate and voucher validity by its own time.</param>
/// <param name="Restarts">How often a device starts over from the first server after no answer, a cut connection or a 5xx (back-off 1 s doubling to 30 s); 0: it gives up at once.</param>
internal sealed record BootstrapSettings(
    IReadOnlyList<Uri> BootstrapServers,
    X509Certificate2Collection? TrustAnchors,
    X509Certificate2Collection? VoucherTrustAnchors,
    bool Signed = false,
    SztpEncoding Encoding = SztpEncoding.Json,
    TimeSpan? Timeout = null,
    int MaxRedirects = 4,
    int MaxRetries = 3,
    TimeSpan? MaxRetryAfter = null,
    string? StateDirectory = null,
    TimeSpan ClockSkew = default,
    int Restarts = 0);

/// <summary>One device's result. <paramref name="Reason"/> is a short category for the summary; null when it succeeded.</summary>
/// <param name="Servers">Every server the device tried, in order (including those that failed).</param>
/// <param name="Accepted">The conveyed information the device accepted, one per hop, and why it trusted it.</param>
internal sealed record DeviceOutcome(string Serial, string? Reason, string? Detail, TimeSpan Elapsed, IReadOnlyList<Uri> Servers,
    OnboardingInformation? Onboarding, SshPublicKey? HostKey, IReadOnlyList<AcceptedAnswer> Accepted)
{
    public bool Ok => Reason is null;
}

/// <summary>
/// Conveyed information a device accepted (RFC 8572 §5.3–5.5): from <paramref name="Server"/>, either over TLS it
/// authenticated with a trust anchor (<paramref name="TlsAuthenticated"/>), or signed (<paramref name="Signed"/>: the
/// voucher verified against the manufacturer's trust anchor for this serial, the owner certificate it pins, and the
/// owner's signature on the content), or both.
/// </summary>
internal sealed record AcceptedAnswer(Uri Server, string Kind, bool TlsAuthenticated, bool Signed)
{
    public override string ToString() =>
        $"{Kind} from {Server.Authority} ({(Signed ? "signed: voucher, owner certificate and signature verified" : "unsigned")}; "
        + $"{(TlsAuthenticated ? "TLS authenticated" : "TLS not trusted")})";
}

/// <summary>Why a device gave up: <see cref="Reason"/> groups failures in the summary.</summary>
internal sealed class DeviceBootstrapException(string reason, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Reason { get; } = reason;
}

/// <summary>
/// One simulated SZTP device (RFC 8572 §5): calls get-bootstrapping-data on each bootstrap server in order, verifies
/// what it gets like a strict device, follows redirect-information, and on onboarding-information reports progress
/// up to bootstrap-complete with an SSH host key it generated for itself.
/// </summary>
internal sealed class SztpDevice(DeviceIdentity identity, BootstrapSettings settings)
{
    private static readonly string[] ConveyedInfoTypes = [SztpOids.ConveyedInfoJson, SztpOids.ConveyedInfoXml];

    /// <summary>Why the device last refused a server certificate by the calendar (its clock before notBefore or after notAfter).</summary>
    private string? _certificateTimeRefusal;

    /// <summary>Called when the device accepted redirect-information (for a live view of a fleet).</summary>
    public Action? Redirected { get; init; }

    /// <summary>What the device believes the time is.</summary>
    private DateTimeOffset DeviceNow => DateTimeOffset.UtcNow + settings.ClockSkew;

    public async Task<DeviceOutcome> RunAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var visited = new List<Uri>();
        var accepted = new List<AcceptedAnswer>();
        for (var restart = 0; ; restart++)
        {
            try
            {
                var (onboarding, hostKey) = await BootstrapAsync(visited, accepted, cancellationToken);
                return new DeviceOutcome(identity.Serial, null, null, Stopwatch.GetElapsedTime(started), visited, onboarding, hostKey, accepted);
            }
            catch (DeviceBootstrapException e) when (restart < settings.Restarts && Transient(e))
            {
                // RFC 8572 §5.2: a device that got no usable data starts over from its first source (it loops until it
                // bootstraps); the server may be restarting or its database briefly away.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && restart < settings.Restarts)
            {
            }
            catch (DeviceBootstrapException e)
            {
                return new DeviceOutcome(identity.Serial, e.Reason, e.Message, Stopwatch.GetElapsedTime(started), visited, null, null, accepted);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new DeviceOutcome(identity.Serial, "timeout", "a bootstrap server did not answer in time", Stopwatch.GetElapsedTime(started), visited, null, null,
                    accepted);
            }
            // ½–1 × 1 s·2^n, capped at 30 s: N devices do not come back in lockstep.
            var delay = Math.Min(1000 * Math.Pow(2, Math.Min(restart, 10)), 30_000) * (0.5 + (Random.Shared.NextDouble() * 0.5));
            await Task.Delay(TimeSpan.FromMilliseconds(delay), cancellationToken);
        }
    }

    /// <summary>No answer, a cut connection or a server error: worth starting over; a refusal or bad data is not.</summary>
    private static bool Transient(DeviceBootstrapException e) =>
        e.Reason is "unreachable" || e.Reason.StartsWith("http-5", StringComparison.Ordinal)
        || (e.Reason == "tls" && Innermost(e) is IOException or System.Net.Sockets.SocketException);

    private async Task<(OnboardingInformation, SshPublicKey)> BootstrapAsync(List<Uri> visited, List<AcceptedAnswer> accepted, CancellationToken cancellationToken)
    {
        var servers = settings.BootstrapServers.Select(u => (Uri: u, Anchors: settings.TrustAnchors)).ToList();
        for (var hop = 0; hop <= settings.MaxRedirects; hop++)
        {
            DeviceBootstrapException? last = null;
            Answer? answer = null;
            // RFC 8572 §5.2: try the bootstrap servers of a list in order until one gives usable data.
            foreach (var (uri, anchors) in servers)
            {
                visited.Add(uri);
                try
                {
                    answer = await GetBootstrappingDataAsync(uri, anchors, cancellationToken);
                    break;
                }
                catch (DeviceBootstrapException e)
                {
                    last = e;
                }
            }
            if (answer is null)
                throw last ?? new DeviceBootstrapException("no-server", "no bootstrap server to try");
            using var client = answer.Client;
            accepted.Add(new AcceptedAnswer(answer.Server, answer.Information is RedirectInformation ? "redirect-information" : "onboarding-information",
                answer.Trusted, answer.Signed));
            if (answer.Information is RedirectInformation)
                Redirected?.Invoke();

            switch (answer.Information)
            {
                case RedirectInformation redirect:
                    servers = redirect.BootstrapServers.Select(s => (ServerUri(s), s.TrustAnchor is null ? null : TrustAnchorOf(s.TrustAnchor))).ToList();
                    continue;
                case OnboardingInformation onboarding:
                {
                    // The device's own SSH host key, which the NMS pins from bootstrap-complete for call home: kept in the
                    // state file, so the call-home mode presents the same key.
                    var (state, key) = settings.StateDirectory is null
                        ? (null, DeviceHostKey.GenerateEd25519())
                        : DeviceState.LoadOrCreate(settings.StateDirectory, identity.Serial);
                    using (key)
                    {
                        // RFC 8572 §5.3: progress reports go only to a server the device authenticated.
                        if (answer.Trusted)
                            await ReportAsync(answer.Server, client, onboarding, key.PublicKey, cancellationToken);
                        state?.WithBootstrap(answer.Server, onboarding, DateTimeOffset.UtcNow).Save(settings.StateDirectory!);
                        return (onboarding, key.PublicKey);
                    }
                }
                default:
                    throw new DeviceBootstrapException("malformed-answer", "unknown conveyed information");
            }
        }
        throw new DeviceBootstrapException("redirect-loop", $"more than {settings.MaxRedirects} redirects");
    }

    private sealed record Answer(Uri Server, HttpClient Client, bool Trusted, bool Signed, ConveyedInformation Information);

    private async Task<Answer> GetBootstrappingDataAsync(Uri server, X509Certificate2Collection? anchors, CancellationToken cancellationToken)
    {
        var trusted = anchors is not null;
        // RFC 8572 §5.3: from a server the device cannot authenticate it accepts only signed data, so it asks for it.
        var signedPreferred = settings.Signed || !trusted;
        var nonce = signedPreferred ? RandomNumberGenerator.GetBytes(16) : null;
        var client = Client(anchors);
        var keep = false;
        try
        {
            var body = DeviceRpcInput.WriteGetBootstrappingData(new GetBootstrappingDataInput(signedPreferred, "DeviceSim", "DeviceSimOS", "1.0", nonce), settings.Encoding);
            var (status, contentType, payload, retryAfter) = await PostAsync(client, server, BootstrapPaths.GetBootstrappingData, body, cancellationToken);
            // RFC 9110 §10.2.3: a 503 with Retry-After is "not yet" (the redirect server answers so while the device's
            // record is on its way to the NMS): wait as told and ask the same server again, as devices do.
            for (var retry = 0; status == HttpStatusCode.ServiceUnavailable && retryAfter is { } wait && retry < settings.MaxRetries; retry++)
            {
                var max = settings.MaxRetryAfter ?? TimeSpan.FromSeconds(60);
                await Task.Delay(wait < max ? wait : max, cancellationToken);
                (status, contentType, payload, retryAfter) = await PostAsync(client, server, BootstrapPaths.GetBootstrappingData, body, cancellationToken);
            }
            if (status != HttpStatusCode.OK)
                throw Refused(status, payload);
            var encoding = contentType?.Contains("xml", StringComparison.OrdinalIgnoreCase) == true ? SztpEncoding.Xml : SztpEncoding.Json;
            var (information, signed) = Verify(Sztp(() => BootstrapServerRpc.ParseGetBootstrappingDataOutput(payload, encoding)), trusted, nonce, encoding);
            keep = true;
            return new Answer(server, client, trusted, signed, information);
        }
        finally
        {
            if (!keep)
                client.Dispose();
        }
    }

    /// <summary>RFC 8572 §5.4–5.5: what a device accepts as conveyed information, and whether it came signed.</summary>
    private (ConveyedInformation Information, bool Signed) Verify(GetBootstrappingDataOutput output, bool trusted, byte[]? nonce, SztpEncoding responseEncoding)
    {
        var now = DeviceNow;
        var contentType = Sztp(() => SztpCms.ContentType(output.ConveyedInformation));
        if (contentType != SztpOids.SignedData)
        {
            // §5.3: unsigned data only from a server the device authenticated with a trust anchor.
            if (!trusted)
                throw new DeviceBootstrapException("unsigned-from-untrusted-server",
                    "the server is not authenticated and its conveyed information is unsigned");
            var unsigned = Sztp(() => SztpCms.DecodeUnsigned(output.ConveyedInformation));
            var encoding = unsigned.ContentType == SztpOids.Data ? responseEncoding
                : unsigned.ContentType == SztpOids.ConveyedInfoXml ? SztpEncoding.Xml : SztpEncoding.Json;
            return (Sztp(() => ConveyedInformationCodec.Decode(unsigned.Content, encoding)), false);
        }

        // §5.4: signed data needs the owner certificate and a voucher the device can verify with its own trust anchor.
        if (output.OwnerCertificate is null || output.OwnershipVoucher is null)
            throw new DeviceBootstrapException("no-voucher", "signed conveyed information without owner-certificate and ownership-voucher");
        if (settings.VoucherTrustAnchors is not { Count: > 0 } manufacturer)
            throw new DeviceBootstrapException("no-voucher-trust-anchor", "signed data arrived but the device has no voucher trust anchor");
        var verified = Sztp(() => OwnershipVoucher.Verify(output.OwnershipVoucher, manufacturer, identity.Serial, output.OwnerCertificate, now, nonce));
        var owner = verified.OwnerCertificate;
        var content = Sztp(() => SztpCms.VerifySigned(output.ConveyedInformation, ConveyedInfoTypes, [owner], now, [owner]));
        if (!content.Signer.RawDataMemory.Span.SequenceEqual(owner.RawDataMemory.Span))
            throw new DeviceBootstrapException("untrusted-signer", "the conveyed information is not signed by the owner certificate the voucher pins");
        var signedEncoding = content.ContentType == SztpOids.ConveyedInfoXml ? SztpEncoding.Xml : SztpEncoding.Json;
        return (Sztp(() => ConveyedInformationCodec.Decode(content.Content, signedEncoding)), true);
    }

    /// <summary>RFC 8572 §5.6 / §7.3: the progress reports of processing onboarding information, ending with bootstrap-complete.</summary>
    private async Task ReportAsync(Uri server, HttpClient client, OnboardingInformation onboarding, SshPublicKey hostKey, CancellationToken cancellationToken)
    {
        var reports = new List<ReportProgressInput>
        {
            new(ProgressType.BootstrapInitiated),
            new(ProgressType.ParsingInitiated),
            new(ProgressType.ParsingComplete),
        };
        if (onboarding.BootImage is not null)
            reports.Add(new(ProgressType.BootImageComplete, "DeviceSim keeps its image"));
        if (onboarding.Configuration is not null)
        {
            reports.Add(new(ProgressType.ConfigInitiated));
            reports.Add(new(ProgressType.ConfigComplete, $"{onboarding.Configuration.Length} bytes of configuration ({onboarding.ConfigurationHandling})"));
        }
        reports.Add(new(ProgressType.BootstrapComplete, "DeviceSim bootstrapped", [new ReportedHostKey(hostKey.KeyType, hostKey.Blob)]));
        foreach (var report in reports)
        {
            var (status, _, payload, _) = await PostAsync(client, server, BootstrapPaths.ReportProgress,
                DeviceRpcInput.WriteReportProgress(report, settings.Encoding), cancellationToken);
            if (status != HttpStatusCode.NoContent)
                throw Refused(status, payload, $"report-progress {ProgressTypes.Name(report.ProgressType)}: ");
        }
    }

    private async Task<(HttpStatusCode Status, string? ContentType, byte[] Payload, TimeSpan? RetryAfter)> PostAsync(HttpClient client, Uri server, string path, byte[] body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout ?? TimeSpan.FromSeconds(30));
        using var content = new ByteArrayContent(body);
        var mediaType = settings.Encoding == SztpEncoding.Json ? "application/yang-data+json" : "application/yang-data+xml";
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, path)) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        try
        {
            using var response = await client.SendAsync(request, timeout.Token);
            var payload = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            var retryAfter = response.Headers.RetryAfter is { } header
                ? header.Delta ?? (header.Date is { } date ? date - DateTimeOffset.UtcNow : null)
                : null;
            return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, payload,
                retryAfter is { } positive && positive > TimeSpan.Zero ? positive : retryAfter is null ? null : TimeSpan.Zero);
        }
        catch (HttpRequestException e) when ((e.InnerException is AuthenticationException || e.HttpRequestError == HttpRequestError.SecureConnectionError)
            && _certificateTimeRefusal is { } refusal)
        {
            throw new DeviceBootstrapException("server-certificate-not-valid-at-device-time", $"{server.Authority}: TLS refused by the device: {refusal}", e);
        }
        catch (HttpRequestException e) when (e.InnerException is AuthenticationException || e.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            throw new DeviceBootstrapException("tls", $"{server.Authority}: TLS failed: {Innermost(e).Message}", e);
        }
        catch (HttpRequestException e)
        {
            throw new DeviceBootstrapException("unreachable", $"{server.Authority}: {Innermost(e).Message}", e);
        }
    }

    private HttpClient Client(X509Certificate2Collection? anchors)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = settings.Timeout ?? TimeSpan.FromSeconds(30),
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                // The IDevID and its intermediates, so the server can build the chain to the factory CA.
                ClientCertificateContext = SslStreamCertificateContext.Create(identity.Certificate, [.. identity.Intermediates], offline: true),
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                    anchors is null || ServerTrusted(certificate as X509Certificate2, chain, errors, anchors, DeviceNow, out _certificateTimeRefusal),
            },
        };
        return new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The server certificate chains to one of the trust anchors (and nothing else) and names the host we called.</summary>
    /// <param name="deviceNow">The device's own time: validity periods are judged by the device's clock, right or wrong.</param>
    /// <param name="timeRefusal">Set when the chain failed only because a certificate is not valid at <paramref name="deviceNow"/>.</param>
    private static bool ServerTrusted(X509Certificate2? certificate, X509Chain? presented, SslPolicyErrors errors, X509Certificate2Collection anchors,
        DateTimeOffset deviceNow, out string? timeRefusal)
    {
        timeRefusal = null;
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.VerificationTime = deviceNow.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true; // a device out of the box fetches nothing a certificate names
        if (presented is not null)
            chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        if (chain.Build(certificate))
            return true;
        // A pinned end-entity certificate (a self-signed bootstrap server) is trusted as itself.
        if (anchors.Any(a => a.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span)) && deviceNow >= certificate.NotBefore && deviceNow <= certificate.NotAfter)
            return true;
        if (chain.ChainStatus.Any(s => s.Status == X509ChainStatusFlags.NotTimeValid))
        {
            var early = chain.ChainElements.Select(e => e.Certificate).FirstOrDefault(c => deviceNow < c.NotBefore);
            timeRefusal = early is not null
                ? $"certificate '{early.Subject}' is not yet valid (valid from {early.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; the device's clock says {deviceNow:yyyy-MM-dd HH:mm} UTC)"
                : $"certificate '{certificate.Subject}' has expired by the device's clock ({deviceNow:yyyy-MM-dd HH:mm} UTC)";
        }
        return false;
    }

    private static Uri ServerUri(BootstrapServer server)
    {
        // RFC 8572 §6.3: address is an inet:host; port defaults to 443.
        var host = IPAddress.TryParse(server.Address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{server.Address}]" : server.Address;
        return new Uri($"https://{host}:{server.Port ?? 443}/");
    }

    private static X509Certificate2Collection TrustAnchorOf(byte[] cms) => Sztp(() => SztpCms.DecodeCertificatesOnly(cms));

    private static DeviceBootstrapException Refused(HttpStatusCode status, byte[] payload, string prefix = "")
    {
        var text = System.Text.Encoding.UTF8.GetString(payload);
        var tag = Between(text, "\"error-tag\":\"", "\"") ?? Between(text, "<error-tag>", "</error-tag>") ?? "";
        var message = Between(text, "\"error-message\":\"", "\"") ?? Between(text, "<error-message>", "</error-message>") ?? text;
        return new DeviceBootstrapException($"http-{(int)status}{(tag.Length > 0 ? " " + tag : "")}", prefix + message);
    }

    private static string? Between(string text, string start, string end)
    {
        var from = text.IndexOf(start, StringComparison.Ordinal);
        if (from < 0)
            return null;
        from += start.Length;
        var to = text.IndexOf(end, from, StringComparison.Ordinal);
        return to < 0 ? null : text[from..to];
    }

    /// <summary>Runs a library call; its typed refusal becomes the device's reason (e.g. bad-signature, voucher-mismatch).</summary>
    private static T Sztp<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (SztpException e)
        {
            var reason = string.Concat(e.Error.ToString().Select((c, i) => char.IsUpper(c) ? (i == 0 ? "" : "-") + char.ToLowerInvariant(c) : c.ToString()));
            throw new DeviceBootstrapException(reason, e.Message, e);
        }
    }

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);
}

/// <summary>RFC 8572 §7 RESTCONF paths, relative to a bootstrap server's base URL.</summary>
internal static class BootstrapPaths
{
    public const string GetBootstrappingData = "/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data";
    public const string ReportProgress = "/restconf/operations/ietf-sztp-bootstrap-server:report-progress";
}
