using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Onboarding.Netconf.Messages;

namespace Onboarding.DeviceSim.Telemetry;

/// <summary>What the NMS wrote into the device's <c>telemetry</c> container (public material only).</summary>
internal sealed record TelemetryConfiguration(string DeviceId, long DeviceName, string DeviceFunction, string BrokerHost, int BrokerPort,
    byte[] Certificate, byte[] CaCertificate);

/// <summary>
/// The device's side of <c>urn:onboarding:telemetry:1.0</c> (README "Telemetry"): it answers <c>generate-csr</c> with a
/// PKCS#10 request for a P-256 key it generated and never sends anywhere, and, once the NMS wrote a certificate for that
/// key into its running configuration, publishes telemetry with MQTTnet (<see cref="MqttNetTelemetryClient"/>). One
/// agent per device, kept across call-home connections, like its datastore.
/// </summary>
internal sealed class TelemetryAgent(string serial, TimeSpan interval, TextWriter? log) : IAsyncDisposable
{
    public const string Capability = "urn:onboarding:telemetry:1.0";

    public static readonly XNamespace Ns = Capability;

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly Lock _gate = new();
    private MqttNetTelemetryClient? _client;
    private byte[]? _certificate;
    private byte[]? _publicKey;

    public string Serial { get; } = serial;

    /// <summary>The device's public key (SubjectPublicKeyInfo, DER): what the NMS's certificate must certify.</summary>
    public byte[] PublicKey => _publicKey ??= _key.ExportSubjectPublicKeyInfo();

    /// <summary>What happened, one line each (also written to the log writer): for tests and the console.</summary>
    public ConcurrentQueue<string> Events { get; } = new();

    /// <summary>The running MQTTnet client, once a credential landed.</summary>
    public MqttNetTelemetryClient? Client
    {
        get
        {
            lock (_gate)
                return _client;
        }
    }

    public static bool IsRpc(XElement operation) => operation.Name == Ns + "generate-csr";

    /// <summary>generate-csr: a PKCS#10 request (RFC 2986), base64 DER, signed with the device's key.</summary>
    public XElement GenerateCsr(XElement operation)
    {
        var commonName = operation.Element(Ns + "common-name")?.Value is { Length: > 0 } cn ? cn : Serial;
        var name = new X500DistinguishedNameBuilder();
        name.AddCommonName(commonName);
        var request = new CertificateRequest(name.Build(), _key, HashAlgorithmName.SHA256);
        Report($"generate-csr: a request for CN={commonName}, signed with the device's own P-256 key");
        return new XElement(Ns + "csr", Convert.ToBase64String(request.CreateSigningRequest()));
    }

    /// <summary>Called after each change of running: a new certificate for our key starts (or restarts) publishing.</summary>
    public void RunningChanged(XElement running)
    {
        if (Read(running) is not { } configuration)
            return;
        MqttNetTelemetryClient? previous;
        lock (_gate)
        {
            if (_certificate is not null && _certificate.AsSpan().SequenceEqual(configuration.Certificate))
                return;
            using (var certificate = X509CertificateLoader.LoadCertificate(configuration.Certificate))
            {
                if (!certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(PublicKey))
                {
                    Report($"the certificate {certificate.SerialNumber} in running is not for this device's key: ignored");
                    return;
                }

                Report(string.Create(CultureInfo.InvariantCulture,
                    $"credential landed: certificate {certificate.SerialNumber}, device name {configuration.DeviceName}, broker {configuration.BrokerHost}:{configuration.BrokerPort}"));
            }

            _certificate = configuration.Certificate;
            previous = _client;
            _client = new MqttNetTelemetryClient(configuration, _key, interval, Report);
            _client.Start();
        }

        if (previous is not null)
            _ = previous.DisposeAsync().AsTask();
    }

    /// <summary>The telemetry container of a running configuration, or null when it holds no complete one.</summary>
    public static TelemetryConfiguration? Read(XElement running)
    {
        var t = running.Element(Ns + "telemetry");
        if (t is null)
            return null;
        try
        {
            return new TelemetryConfiguration(
                t.Element(Ns + "device-id")!.Value,
                long.Parse(t.Element(Ns + "device-name")!.Value, CultureInfo.InvariantCulture),
                t.Element(Ns + "device-function")?.Value ?? "telemetry",
                t.Element(Ns + "broker")!.Element(Ns + "host")!.Value,
                int.Parse(t.Element(Ns + "broker")!.Element(Ns + "port")!.Value, CultureInfo.InvariantCulture),
                Convert.FromBase64String(t.Element(Ns + "certificate")!.Value),
                Convert.FromBase64String(t.Element(Ns + "ca-certificate")!.Value));
        }
        catch (Exception e) when (e is NullReferenceException or FormatException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>An RPC of this module the device does not know.</summary>
    public static NetconfRpcException Unknown(XElement operation) =>
        new(new RpcError(RpcErrorType.Protocol, "operation-not-supported", RpcErrorSeverity.Error, Message: $"unknown operation {operation.Name}"));

    private void Report(string line)
    {
        Events.Enqueue(line);
        if (log is not null)
        {
            lock (log)
                log.WriteLine($"{Serial}: {line}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        MqttNetTelemetryClient? client;
        lock (_gate)
        {
            client = _client;
            _client = null;
        }

        if (client is not null)
            await client.DisposeAsync();
        // Still readable afterwards (tests compare it with the certificate the NMS wrote); the key itself goes.
        _ = PublicKey;
        _key.Dispose();
    }
}
