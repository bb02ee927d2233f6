using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Onboarding.LoadTest;

/// <summary>
/// The onboard run's baseline, same run: the cheapest honest reference for what a device's flow must at least cost. Per
/// device the flow opens two TLS connections with its IDevID (redirect server, NMS bootstrap server) and one SSH session
/// (call home). Baseline: the same two full TLS 1.3 client-certificate handshakes + one POST each against a do-nothing
/// Kestrel answering 204 in its own process (the <c>bootstrap-server --kind baseline</c> of this tool, RSA 3072 like the
/// host's generated identities), and the call-home baseline of <c>callhome</c>: OpenSSH <c>ssh -N</c> logins into
/// devices of our kind (one process each, so fewer of them).
/// </summary>
internal static class OnboardBaseline
{
    public static async Task<IReadOnlyList<Measurement>> RunAsync(OnboardSettings settings, FactoryAuthority ca, IReadOnlyList<string> serials, CancellationToken cancellationToken)
    {
        var rows = new List<Measurement>();
        var devices = Math.Min(serials.Count, 2_000);
        var identities = Enumerable.Range(0, Math.Min(devices, 500))
            .Select(i => SslStreamCertificateContext.Create(ca.IssueDevice("BL" + serials[i]), [], offline: true)).ToArray();
        await using (var server = await BootstrapServerProcess.StartAsync("baseline", "rsa3072", "system", cancellationToken))
        {
            for (var i = 0; i < Math.Min(20, identities.Length); i++)
                await BootstrapTest.OneAsync("127.0.0.1", server.Port, identities[i], server.CertificateHash, SslProtocols.Tls13, cancellationToken);
            var handshakes = devices * 2;
            var serverBefore = server.CpuMilliseconds();
            var clientBefore = Process.GetCurrentProcess().TotalProcessorTime;
            long next = -1, failed = 0;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(_ => Task.Run(async () =>
            {
                long i;
                while ((i = Interlocked.Increment(ref next)) < handshakes)
                {
                    try
                    {
                        if (await BootstrapTest.OneAsync("127.0.0.1", server.Port, identities[i % identities.Length], server.CertificateHash, SslProtocols.Tls13, cancellationToken) != 204)
                            Interlocked.Increment(ref failed);
                    }
                    catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            }, cancellationToken)));
            var elapsed = watch.Elapsed;
            var serverCpu = server.CpuMilliseconds() - serverBefore;
            var clientCpu = (Process.GetCurrentProcess().TotalProcessorTime - clientBefore).TotalMilliseconds;
            rows.Add(new Measurement("N devices power-on → Onboarded + notified",
                "baseline: 2 TLS 1.3 client-cert handshakes + POST per device, Kestrel answering 204 (own process)", $"SslStream in this tool, c={settings.Concurrency}",
                devices / elapsed.TotalSeconds, "devices/s", string.Create(CultureInfo.InvariantCulture,
                    $"{devices} devices = {handshakes} handshakes in {elapsed.TotalSeconds:0.0} s, {failed} failed; CPU ms/device: server {serverCpu / devices:0.00}, " +
                    $"client {clientCpu / devices:0.00}; load {Report.LoadAverage()}")));
        }
        foreach (var identity in identities)
            identity.TargetCertificate.Dispose();

        if (settings.BaselineSessions > 0)
        {
            var callHome = new CallHomeSettings(settings.Url, settings.SftpPort, 0, 0, Math.Min(settings.Concurrency, 32), 10, null, settings.PgData,
                settings.NmsKeyFile, "onboarding-nms", settings.BaselineSessions, ServerAliveInterval: 0, HostKeepaliveSeconds: 0, TimeoutSeconds: 120);
            rows.AddRange((await CallHomeBaseline.RunAsync(callHome, cancellationToken))
                .Select(r => r with { Scenario = "reference: call-home SSH login per device (" + r.Scenario + ")" }));
        }
        return rows;
    }
}
