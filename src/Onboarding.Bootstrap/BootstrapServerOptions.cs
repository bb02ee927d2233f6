using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Onboarding.Bootstrap;

/// <summary>One device-facing bootstrap server: where it listens and which TLS certificate it presents.</summary>
public sealed class BootstrapServerOptions
{
    /// <summary>False: the server does not listen (a host that plays the role without serving devices).</summary>
    public bool Enabled { get; set; } = true;

    public IPAddress ListenAddress { get; set; } = IPAddress.Any;

    /// <summary>0 picks a free port (tests); <see cref="BootstrapServerEndpoint.BoundEndpoint"/> tells which.</summary>
    public int Port { get; set; }

    /// <summary>The TLS server certificate with its private key, and the intermediates to send after it.</summary>
    public required Func<X509Certificate2> ServerCertificate { get; set; }

    public IReadOnlyList<X509Certificate2> ServerIntermediates { get; set; } = [];

    /// <summary>Largest request body; a device's RPC input is a few hundred bytes, a report a few KiB.</summary>
    public int MaxRequestBytes { get; set; } = Sztp.BootstrapServerRpc.DefaultMaxBytes;
}
