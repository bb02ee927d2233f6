namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// <see cref="RedirectTwoHosts"/> set up for devices that follow what they are told, the whole way: the NMS is
/// <c>localhost</c> (SAN of its bootstrap TLS certificate) and listens on the very ports its hand-off bundle names
/// (SFTP drop, bootstrap server), so a bundle is imported as the NMS issued it and the signed redirect-information
/// leads a device to the real NMS bootstrap server. The redirect server waits longer for the hand-off than the default
/// (a loaded test machine), so a device is not sent away with a 503 a real device would retry.
/// </summary>
public sealed class OnboardingFlowHosts : RedirectTwoHosts
{
    public OnboardingFlowHosts()
    {
        SftpPort = HostProcess.FreePort();
        BootstrapPort = HostProcess.FreePort();
        var sftp = SftpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var bootstrap = BootstrapPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Nms.With("Nms:PublicHost", "localhost")
            .With("Drop:Port", sftp)
            .With("Nms:SftpPort", sftp)
            .With("Nms:BootstrapPort", bootstrap)
            .With("Nms:Bootstrap:ListenPort", bootstrap);
        Redirect.With("Redirect:Handoff:AnswerWithin", "00:01:00");
    }

    /// <summary>The NMS SFTP drop's port, as its hand-off bundle names it.</summary>
    public int SftpPort { get; }

    /// <summary>The NMS bootstrap server's port, as its (signed) redirect-information names it.</summary>
    public int BootstrapPort { get; }
}
