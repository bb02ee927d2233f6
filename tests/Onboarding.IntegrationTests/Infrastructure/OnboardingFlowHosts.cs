namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// <see cref="RedirectTwoHosts"/> set up for devices that follow what they are told, the whole way: the NMS is
/// <c>localhost</c> (SAN of its bootstrap TLS certificate) and listens on the very ports its hand-off bundle names
/// (SFTP drop, bootstrap server, call home), so a bundle is imported as the NMS issued it, the signed redirect-information
/// leads a device to the real NMS bootstrap server, and the call-home configuration that server renders leads the
/// device to the real call-home listener. Webhooks may point at a receiver on loopback (the test's). The redirect server waits longer for the hand-off than the default
/// (a loaded test machine), so a device is not sent away with a 503 a real device would retry.
/// </summary>
public sealed class OnboardingFlowHosts : RedirectTwoHosts
{
    public OnboardingFlowHosts()
    {
        SftpPort = HostProcess.FreePort();
        BootstrapPort = HostProcess.FreePort();
        CallHomePort = HostProcess.FreePort();
        var sftp = SftpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var bootstrap = BootstrapPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var callHome = CallHomePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Nms.With("Nms:PublicHost", "localhost")
            .With("Drop:Port", sftp)
            .With("Nms:SftpPort", sftp)
            .With("Nms:BootstrapPort", bootstrap)
            .With("Nms:Bootstrap:ListenPort", bootstrap)
            .With("Nms:CallHomePort", callHome)
            .With("Nms:CallHome:ListenPort", callHome)
            .With("Notifications:AllowHttpWebhooks", "true")
            .With("Notifications:AllowPrivateNetworkWebhooks", "true");
        Redirect.With("Redirect:Handoff:AnswerWithin", "00:01:00");
    }

    /// <summary>The NMS SFTP drop's port, as its hand-off bundle names it.</summary>
    public int SftpPort { get; }

    /// <summary>The NMS bootstrap server's port, as its (signed) redirect-information names it.</summary>
    public int BootstrapPort { get; }

    /// <summary>The NMS call-home port (RFC 8071), as the onboarding-information's call-home configuration names it.</summary>
    public int CallHomePort { get; }
}
