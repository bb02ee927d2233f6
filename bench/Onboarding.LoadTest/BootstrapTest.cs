using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Onboarding.Bootstrap;
using Onboarding.Sztp;

namespace Onboarding.LoadTest;

/// <summary>
/// get-bootstrapping-data per second with a NEW TLS connection (full handshake, client certificate, no resumption) per
/// request, from N simulated devices. Baseline: a Kestrel HTTPS endpoint with the same TLS settings and client
/// certificate required that answers 204 and does nothing. Ours: <see cref="BootstrapServerEndpoint"/> in this process,
/// answering a fixed redirect-information. With --url, also any running host's bootstrap server.
/// </summary>
internal static class BootstrapTest
{
    private const string Body = """{"ietf-sztp-bootstrap-server:input":{"hw-model":"LoadTest"}}""";

    public static async Task<int> RunAsync(int devices, int concurrency, int seconds, IReadOnlyList<string> serverKeys, IReadOnlyList<string> tlsVersions,
        bool serverProcess, string? oursBefore, Uri? url, CancellationToken cancellationToken)
    {
        Report.Header($"bootstrap devices={devices} concurrency={concurrency} seconds={seconds} server-key={string.Join(',', serverKeys)} " +
            $"tls={string.Join(',', tlsVersions)} server-process={serverProcess}");
        var identities = Devices(devices);
        if (serverProcess)
            Console.WriteLine(ChainBuildCost(identities[0]));
        var rows = new List<Measurement>();
        foreach (var serverKey in serverKeys)
        {
            foreach (var tlsVersion in tlsVersions)
            {
                var protocol = tlsVersion switch
                {
                    "13" or "1.3" => SslProtocols.Tls13,
                    "12" or "1.2" => SslProtocols.Tls12,
                    _ => throw new ArgumentException($"--tls {tlsVersion}: 13 or 12"),
                };
                var scenario = $"{devices} devices, -c {concurrency}, new TLS {(protocol == SslProtocols.Tls13 ? "1.3" : "1.2")} connection + client cert per request, server {serverKey}";
                if (serverProcess)
                    await ServerProcessRowsAsync(rows, scenario, serverKey, protocol, identities, concurrency, seconds, oursBefore, cancellationToken);
                else
                    await InProcessRowsAsync(rows, scenario, serverKey, protocol, identities, concurrency, seconds, cancellationToken);
            }
        }

        if (url is not null)
        {
            var result = await DriveAsync(url.Port, identities, concurrency, seconds, null, SslProtocols.Tls13, null, cancellationToken, url.Host);
            rows.Add(result.Row($"{devices} devices, -c {concurrency}, TLS 1.3, running host", $"running host {url.Authority}"));
        }

        Report.Print("bootstrap", rows, r => r.Server.StartsWith("baseline", StringComparison.Ordinal),
            "≥ 1,000 get-bootstrapping-data/s per host on 2 cores");
        return 0;
    }

    private static async Task InProcessRowsAsync(List<Measurement> rows, string scenario, string serverKey, SslProtocols protocol,
        IReadOnlyList<X509Certificate2> identities, int concurrency, int seconds, CancellationToken cancellationToken)
    {
        using var serverCertificate = ServerCertificate(serverKey);
        var pinned = serverCertificate.GetCertHash();
        await using (var baseline = await BaselineServer.StartAsync(serverCertificate, customChainPolicy: false))
        {
            var result = await DriveAsync(baseline.Port, identities, concurrency, seconds, pinned, protocol, null, cancellationToken);
            rows.Add(result.Row(scenario, "baseline: Kestrel, same TLS, answers 204"));
        }

        using var host = await OursAsync(serverCertificate);
        var port = (await host.Services.GetRequiredKeyedService<BootstrapServerEndpoint>("bench").BoundEndpoint).Port;
        var ours = await DriveAsync(port, identities, concurrency, seconds, pinned, protocol, null, cancellationToken);
        rows.Add(ours.Row(scenario, "ours: BootstrapServerEndpoint, fixed redirect"));
        await host.StopAsync(cancellationToken);
    }

    /// <summary>
    /// Each server in a process of its own (this tool's <c>bootstrap-server</c> subcommand), so its CPU per request is
    /// read from /proc/&lt;pid&gt;/stat apart from the client's. The experiment row (a chain policy that trusts nothing
    /// and never looks at the system store) shows what the server's X509Chain build on the client certificate costs.
    /// </summary>
    private static async Task ServerProcessRowsAsync(List<Measurement> rows, string scenario, string serverKey, SslProtocols protocol,
        IReadOnlyList<X509Certificate2> identities, int concurrency, int seconds, string? oursBefore, CancellationToken cancellationToken)
    {
        List<(string Kind, string Chain, string Label, string? Dll)> servers =
        [
            ("baseline", "system", "baseline: Kestrel, same TLS, answers 204", null),
            ("baseline", "custom", "experiment: baseline, chain policy without the system store", null),
            ("ours", "system", "ours: BootstrapServerEndpoint, fixed redirect", null),
        ];
        if (oursBefore is not null)
            servers.Add(("ours", "system", "ours before the change (--ours-before build)", oursBefore));
        foreach (var (kind, chain, label, dll) in servers)
        {
            await using var server = await BootstrapServerProcess.StartAsync(kind, serverKey, chain, cancellationToken, dll);
            var result = await DriveAsync(server.Port, identities, concurrency, seconds, server.CertificateHash, protocol, server, cancellationToken);
            rows.Add(result.Row(scenario, label + " (own process)"));
        }
    }

    /// <summary>
    /// What one X509Chain.Build of a device certificate costs in this process, as SslStream runs it on the server before the
    /// validation callback: with the default policy (system store) and with a custom-root policy that trusts nothing.
    /// </summary>
    internal static string ChainBuildCost(X509Certificate2 device)
    {
        double Measure(Func<X509ChainPolicy> policy)
        {
            const int Count = 300;
            for (var i = 0; i < 20; i++)
                Build(policy());
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < Count; i++)
                Build(policy());
            return watch.Elapsed.TotalMicroseconds / Count;
        }

        void Build(X509ChainPolicy policy)
        {
            using var chain = new X509Chain { ChainPolicy = policy };
            chain.Build(device);
            foreach (var element in chain.ChainElements)
                element.Certificate.Dispose();
        }

        var system = Measure(() => new X509ChainPolicy { RevocationMode = X509RevocationMode.NoCheck, RevocationFlag = X509RevocationFlag.ExcludeRoot });
        var custom = Measure(CustomChainPolicy);
        return string.Create(CultureInfo.InvariantCulture,
            $"X509Chain.Build of one device certificate (wall clock, this process, load {Report.LoadAverage()}): system store {system:0} µs, custom root trust without the system store {custom:0} µs");
    }

    /// <summary>A chain policy that never consults the system store or the network: the build finds no root (the callback ignores that).</summary>
    internal static X509ChainPolicy CustomChainPolicy() => new()
    {
        TrustMode = X509ChainTrustMode.CustomRootTrust,
        RevocationMode = X509RevocationMode.NoCheck,
        DisableCertificateDownloads = true,
    };

    private sealed record Result(double Rate, double P50, double P99, long Errors, IReadOnlyDictionary<int, int> Statuses, string Cpu)
    {
        public Measurement Row(string scenario, string server) => new(scenario, server, "raw SslStream devices", Rate, "req/s",
            $"p50 {P50:0.0} ms, p99 {P99:0.0} ms, errors {Errors}, status {string.Join(" ", Statuses.Select(s => $"{s.Key}×{s.Value}"))}, {Cpu}");
    }

    private static async Task<Result> DriveAsync(int port, IReadOnlyList<X509Certificate2> devices, int concurrency, int seconds,
        byte[]? pinned, SslProtocols protocol, BootstrapServerProcess? server, CancellationToken cancellationToken, string host = "127.0.0.1")
    {
        var contexts = devices.Select(d => SslStreamCertificateContext.Create(d, [], offline: true)).ToArray();
        // Warm-up (JIT, thread pool), not counted.
        for (var i = 0; i < Math.Min(50, contexts.Length); i++)
            await OneAsync(host, port, contexts[i], pinned, protocol, cancellationToken);

        var latencies = new List<double>[concurrency];
        var statuses = new int[concurrency][];
        long errors = 0;
        long next = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var serverBefore = server?.CpuMilliseconds() ?? 0;
        var watch = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(seconds);
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = [];
            var counts = statuses[w] = new int[600];
            while (watch.Elapsed < limit && !cancellationToken.IsCancellationRequested)
            {
                var device = contexts[Interlocked.Increment(ref next) % contexts.Length];
                var start = Stopwatch.GetTimestamp();
                try
                {
                    var status = await OneAsync(host, port, device, pinned, protocol, cancellationToken);
                    mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    counts[Math.Clamp(status, 0, 599)]++;
                }
                catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException)
                {
                    if (Interlocked.Increment(ref errors) == 1)
                        await Console.Error.WriteLineAsync("first error: " + ex.Message);
                }
            }
        }, cancellationToken)).ToArray();
        await Task.WhenAll(workers);
        var elapsed = watch.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds;
        var serverCpu = (server?.CpuMilliseconds() ?? 0) - serverBefore;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        var byStatus = Enumerable.Range(0, 600).Select(s => (s, n: statuses.Sum(c => c[s]))).Where(p => p.n > 0).ToDictionary(p => p.s, p => p.n);
        var cpuText = server is null
            ? string.Create(CultureInfo.InvariantCulture,
                $"CPU (client+server, one process) {cpu / elapsed / 10:0}% of a core, {cpu * 1000 / Math.Max(1, all.Length):0} µs/req, load {Report.LoadAverage()}")
            : string.Create(CultureInfo.InvariantCulture,
                $"CPU µs/req: server {serverCpu * 1000 / Math.Max(1, all.Length):0} ({serverCpu / elapsed / 10:0}% of a core), client {cpu * 1000 / Math.Max(1, all.Length):0}, load {Report.LoadAverage()}");
        return all.Length == 0
            ? new Result(0, 0, 0, errors, byStatus, cpuText)
            : new Result(all.Length / elapsed, all[all.Length / 2], all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))], errors, byStatus, cpuText);
    }

    /// <summary>One device: TCP connect, full TLS handshake with its certificate, one POST, read to the end, close.</summary>
    internal static async Task<int> OneAsync(string host, int port, SslStreamCertificateContext device, byte[]? pinned, SslProtocols protocol, CancellationToken cancellationToken)
    {
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(host, port, cancellationToken);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = protocol,
            ClientCertificateContext = device,
            AllowTlsResume = false, // every device is a new device: a full handshake each time
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            // The bench's own server certificate, pinned; a running host's must be trusted by the system store.
            RemoteCertificateValidationCallback = (_, presented, _, errors) => pinned is null ? errors == SslPolicyErrors.None
                : presented is not null && presented.GetCertHash().AsSpan().SequenceEqual(pinned),
        }, cancellationToken);
        var request = Encoding.ASCII.GetBytes(
            $"POST {BootstrapServerEndpoint.GetBootstrappingDataPath} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/yang-data+json\r\n" +
            $"Content-Length: {Body.Length}\r\nConnection: close\r\n\r\n{Body}");
        await tls.WriteAsync(request, cancellationToken);
        // Read to the end (the server closes: Connection: close), keeping the status line.
        var head = new byte[16];
        var have = 0;
        var scratch = new byte[4096];
        int read;
        while ((read = await tls.ReadAsync(scratch, cancellationToken)) > 0)
        {
            var n = Math.Min(read, head.Length - have);
            scratch.AsSpan(0, n).CopyTo(head.AsSpan(have));
            have += n;
        }
        return have >= 12 && int.TryParse(Encoding.ASCII.GetString(head, 9, 3), CultureInfo.InvariantCulture, out var status) ? status : 0;
    }

    internal static async Task<IHost> OursAsync(X509Certificate2 certificate)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders(); // one log line per request would measure the console, not the endpoint
        builder.Services.AddBootstrapServer<FixedRedirect>("bench", _ => new BootstrapServerOptions
        {
            ListenAddress = IPAddress.Loopback,
            Port = 0,
            ServerCertificate = () => certificate,
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>Answers every device the same unsigned redirect-information, as a redirect server's cheapest answer.</summary>
    private sealed class FixedRedirect : IBootstrapAnswers
    {
        private static readonly byte[] Json = SztpCms.EncodeUnsigned(SztpEncoding.Json,
            ConveyedInformationCodec.Encode(new RedirectInformation([new BootstrapServer("nms.example", 8443)]), SztpEncoding.Json));

        public Task<BootstrapAnswer> GetBootstrappingDataAsync(DeviceRequest device, GetBootstrappingDataInput input, CancellationToken cancellationToken) =>
            Task.FromResult(BootstrapAnswer.Data(new GetBootstrappingDataOutput(Json)));

        public Task<BootstrapAnswer> ReportProgressAsync(DeviceRequest device, ReportProgressInput input, CancellationToken cancellationToken) =>
            Task.FromResult(BootstrapAnswer.Recorded);
    }

    /// <summary>The baseline: Kestrel with the endpoint's TLS options (TLS 1.2/1.3, client certificate required, any chain), answering 204.</summary>
    internal sealed class BaselineServer(WebApplication app, int port) : IAsyncDisposable
    {
        public int Port { get; } = port;

        public static async Task<BaselineServer> StartAsync(X509Certificate2 certificate, bool customChainPolicy)
        {
            var context = SslStreamCertificateContext.Create(certificate, [], offline: true);
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                kestrel.Listen(IPAddress.Loopback, 0, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    listen.UseHttps(new TlsHandshakeCallbackOptions
                    {
                        HandshakeTimeout = TimeSpan.FromSeconds(10),
                        OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
                        {
                            ServerCertificateContext = context,
                            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                            ClientCertificateRequired = true,
                            ApplicationProtocols = [SslApplicationProtocol.Http11],
                            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                            CertificateChainPolicy = customChainPolicy ? CustomChainPolicy() : null,
                            RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null,
                        }),
                    });
                });
            });
            var app = builder.Build();
            app.Run(http =>
            {
                http.Response.StatusCode = 204;
                return Task.CompletedTask;
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new BaselineServer(app, new Uri(address).Port);
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    internal static X509Certificate2 ServerCertificate(string key)
    {
        using AsymmetricAlgorithm algorithm = key switch
        {
            "rsa2048" => RSA.Create(2048),
            "rsa3072" => RSA.Create(3072),
            "p256" => ECDsa.Create(ECCurve.NamedCurves.nistP256),
            _ => throw new ArgumentException($"--server-key {key}: rsa2048, rsa3072 or p256"),
        };
        var request = algorithm is RSA rsa
            ? new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest("CN=localhost", (ECDsa)algorithm, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>N device certificates (P-256 IDevIDs with the serial in subject serialNumber) under one factory CA.</summary>
    private static List<X509Certificate2> Devices(int count)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=LoadTest factory CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        var devices = new List<X509Certificate2>(count);
        for (var i = 0; i < count; i++)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN=LT{i:D6}, SERIALNUMBER=LT{i:D6}", key, HashAlgorithmName.SHA256);
            using var certificate = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), [1, (byte)(i >> 16), (byte)(i >> 8), (byte)i]);
            devices.Add(certificate.CopyWithPrivateKey(key));
        }
        return devices;
    }
}
