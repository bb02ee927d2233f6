using System.Net;

namespace Onboarding.NmsBootstrap;

/// <summary>
/// The <c>Nms</c> section as the NMS bootstrap server reads it: where devices are told to call home, and, under
/// <c>Nms:Bootstrap</c>, where the device-facing HTTPS server listens.
/// </summary>
internal sealed class NmsBootstrapOptions
{
    public const string SectionName = "Nms";

    /// <summary>The name or address devices reach the NMS by.</summary>
    public string PublicHost { get; set; } = "localhost";

    /// <summary>Where devices call home; defaults to <see cref="PublicHost"/>.</summary>
    public string? CallHomeHost { get; set; }

    /// <summary>RFC 8071 §3.1: IANA port 4334 (netconf-ch-ssh).</summary>
    public int CallHomePort { get; set; } = 4334;

    /// <summary>The port devices are redirected to (named in the signed redirect-information).</summary>
    public int BootstrapPort { get; set; } = 8443;

    public BootstrapListener Bootstrap { get; set; } = new();

    public string CallHomeAddress => string.IsNullOrWhiteSpace(CallHomeHost) ? PublicHost : CallHomeHost;

    internal sealed class BootstrapListener
    {
        /// <summary>False: this NMS host serves no devices (e.g. an API-only host behind the same database).</summary>
        public bool Enabled { get; set; } = true;

        public string ListenAddress { get; set; } = "0.0.0.0";

        /// <summary>
        /// The local port, when it differs from the public <see cref="BootstrapPort"/> (behind a load balancer or NAT);
        /// 0 picks a free port (tests). Unset: <see cref="BootstrapPort"/>.
        /// </summary>
        public int? ListenPort { get; set; }

        /// <summary>The user the NMS logs in as on a device that called home (created/authorized by the call-home configuration).</summary>
        public string CallHomeUser { get; set; } = "onboarding-nms";

        public IPAddress ParsedListenAddress() => IPAddress.TryParse(ListenAddress, out var address)
            ? address
            : throw new InvalidOperationException($"Nms:Bootstrap:ListenAddress '{ListenAddress}' is not an IP address.");
    }
}
