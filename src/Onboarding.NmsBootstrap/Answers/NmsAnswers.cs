using Microsoft.Extensions.Logging;
using Onboarding.Accounts.Contracts;
using Onboarding.Bootstrap;
using Onboarding.Inventory.Contracts;
using Onboarding.NmsBootstrap.Data;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;
using Onboarding.Sztp;
using ReportedHostKey = Onboarding.Sztp.SshHostKey;

namespace Onboarding.NmsBootstrap.Answers;

/// <summary>
/// The NMS bootstrap server's answers (RFC 8572 §7, DESIGN.md flow step 4): an authenticated device gets
/// onboarding-information whose configuration makes it call home, and its progress reports go on its timeline;
/// bootstrap-complete pins its SSH host keys. Every step goes through the device module's lifecycle contract.
/// </summary>
internal sealed class NmsAnswers(DeviceAuthentication authentication, CallHomePlan plan, IDeviceLifecycle lifecycle, PinnedHostKeys pins,
    TimeProvider clock, ILogger<NmsAnswers> logger) : IBootstrapAnswers
{
    /// <summary>A report's message goes on the timeline; the device decides its length, so it is capped.</summary>
    private const int MaxMessageLength = 1000;

    /// <summary>RFC 4253 key types below 2048 bits are refused as host keys (DESIGN.md: no weak SSH algorithms).</summary>
    private const int MinRsaBits = 2048;

    public async Task<BootstrapAnswer> GetBootstrappingDataAsync(DeviceRequest device, GetBootstrappingDataInput input, CancellationToken cancellationToken)
    {
        var check = await authentication.AuthenticateAsync(device.Certificate, device.Intermediates, cancellationToken);
        if (Refusal(check, "get-bootstrapping-data") is { } refusal)
            return refusal;
        var identity = check.Device!;
        using var scope = DeviceScope(identity);

        // Bookkept (or Reprovisioning) → Bootstrapping; a device asking again (a retry, a reboot before call home) is a
        // timeline-only step, so the owner sees every attempt.
        var target = identity.State is DeviceState.Bookkept or DeviceState.Reprovisioning ? DeviceState.Bootstrapping : (DeviceState?)null;
        var style = check.Trust!.CallHomeStyle;
        var detail = $"get-bootstrapping-data ({device.Encoding.ToString().ToUpperInvariant()}{Describe(input)}): "
            + $"onboarding-information with the {CallHomeStyles.Name(style)} call-home configuration";
        try
        {
            await lifecycle.RecordStepAsync(identity.Id, new DeviceStep(target, Source(device), detail), cancellationToken);
        }
        catch (DeviceTransitionRefusedException ex)
        {
            // The device changed state since it was checked (e.g. rejected meanwhile): answer as the new state says.
            logger.LogWarning("Bootstrap of device {Serial} refused: {Reason}", identity.SerialNumber, ex.Message);
            return BootstrapAnswer.Forbidden("This device's state no longer allows bootstrapping.", "state-changed");
        }

        var configuration = plan.Configuration(identity, style);
        var information = new OnboardingInformation(ConfigurationHandling: ConfigurationHandling.Merge, Configuration: configuration);
        // Unsigned even when signed-data-preferred: the device authenticated this server by TLS with the trust anchor
        // from its signed redirect-information, which RFC 8572 §5.4 accepts as trusted.
        var conveyed = SztpCms.EncodeUnsigned(device.Encoding, ConveyedInformationCodec.Encode(information, device.Encoding));
        logger.LogInformation("Device {Serial} given onboarding-information ({Style}, {Bytes} bytes of configuration)",
            identity.SerialNumber, style, configuration.Length);
        return BootstrapAnswer.Data(new GetBootstrappingDataOutput(conveyed));
    }

    public async Task<BootstrapAnswer> ReportProgressAsync(DeviceRequest device, ReportProgressInput input, CancellationToken cancellationToken)
    {
        var check = await authentication.AuthenticateAsync(device.Certificate, device.Intermediates, cancellationToken);
        if (Refusal(check, "report-progress") is { } refusal)
            return refusal;
        var identity = check.Device!;
        using var scope = DeviceScope(identity);

        var type = ProgressTypes.Name(input.ProgressType);
        var detail = $"report-progress {type}";
        if (!string.IsNullOrWhiteSpace(input.Message))
            detail += ": " + Clean(input.Message);

        if (input.ProgressType == ProgressType.BootstrapComplete)
        {
            var keys = new List<DeviceHostKey>();
            var now = clock.GetUtcNow();
            foreach (var (reported, index) in (input.SshHostKeys ?? []).Select((k, i) => (k, i)))
            {
                if (HostKey(identity.Id, reported, now, out var error) is { } key)
                    keys.Add(key);
                else
                    return BootstrapAnswer.InvalidValue($"ssh-host-key {index + 1} ({Clean(reported.Algorithm)}): {error}", "invalid-ssh-host-key");
            }

            if (keys.Count > 0)
            {
                await pins.ReplaceAsync(identity.Id, keys, cancellationToken);
                detail += $" (SSH host keys pinned: {string.Join(", ", keys.Select(k => $"{k.Algorithm} {k.Fingerprint}"))})";
                logger.LogInformation("Device {Serial} pinned {Count} SSH host keys", identity.SerialNumber, keys.Count);
            }
            else
            {
                detail += " (no SSH host keys reported; the key of the IDevID certificate remains the device's call-home identity)";
            }
        }

        try
        {
            await lifecycle.RecordStepAsync(identity.Id, new DeviceStep(null, Source(device), detail), cancellationToken);
        }
        catch (DeviceNotFoundException)
        {
            return BootstrapAnswer.NotAuthenticated("No device with this certificate is expected here.", "unknown-device");
        }

        logger.LogInformation("Device {Serial} reported {ProgressType}", identity.SerialNumber, type);
        return BootstrapAnswer.Recorded;
    }

    private BootstrapAnswer? Refusal(DeviceCheck check, string rpc)
    {
        if (check.Refusal is not { } refusal)
            return null;
        if (check.Device is { } known)
        {
            logger.LogWarning("{Rpc} of device {Serial} ({DeviceId}) of manufacturer {ManufacturerId} refused: {AppTag}: {Reason}",
                rpc, known.SerialNumber, known.Id, known.ManufacturerId, refusal.AppTag, refusal.Reason);
        }

        var message = $"{rpc} refused: {refusal.Reason}";
        return refusal.Status == 401
            ? BootstrapAnswer.NotAuthenticated(message, refusal.AppTag)
            : BootstrapAnswer.Forbidden(message, refusal.AppTag);
    }

    /// <summary>An RFC 8572 ssh-host-key: the algorithm must be the key's own type, and the key one we accept.</summary>
    private static DeviceHostKey? HostKey(DeviceId deviceId, ReportedHostKey reported, DateTimeOffset now, out string? error)
    {
        error = null;
        SshPublicKey key;
        try
        {
            key = SshPublicKey.Parse(reported.KeyData);
        }
        catch (Exception ex) when (ex is SshProtocolException or FormatException or ArgumentException)
        {
            error = $"key-data is not an SSH public key we accept ({ex.Message})";
            return null;
        }

        if (!string.Equals(key.KeyType, reported.Algorithm, StringComparison.Ordinal))
            error = $"algorithm '{Clean(reported.Algorithm)}' is not the key's type '{key.KeyType}'";
        else if (key.RsaBits is > 0 and < MinRsaBits)
            error = $"RSA host keys need at least {MinRsaBits} bits, this one has {key.RsaBits}";
        if (error is not null)
            return null;
        return new DeviceHostKey { DeviceId = deviceId, Algorithm = key.KeyType, KeyData = key.Blob, Fingerprint = key.Fingerprint, PinnedAt = now };
    }

    private static string Source(DeviceRequest device) => $"bootstrap:{device.RemoteEndPoint}";

    private static string Describe(GetBootstrappingDataInput input)
    {
        var parts = new List<string>();
        if (input.HwModel is { } model)
            parts.Add($"hw-model {Clean(model)}");
        if (input.OsName is { } os)
            parts.Add($"os {Clean(os)} {Clean(input.OsVersion ?? "")}".TrimEnd());
        if (input.SignedDataPreferred)
            parts.Add("signed-data-preferred");
        return parts.Count == 0 ? "" : ", " + string.Join(", ", parts);
    }

    /// <summary>Device text on the timeline: one line, no control characters, bounded.</summary>
    private static string Clean(string text)
    {
        var cleaned = new string([.. text.Select(c => char.IsControl(c) ? ' ' : c)]).Trim();
        return cleaned.Length <= MaxMessageLength ? cleaned : string.Concat(cleaned.AsSpan(0, MaxMessageLength), "…");
    }

    private IDisposable? DeviceScope(DeviceIdentity identity) => logger.BeginScope(new Dictionary<string, object>
    {
        ["Serial"] = identity.SerialNumber,
        ["DeviceId"] = identity.Id,
        ["ManufacturerId"] = identity.ManufacturerId,
    });
}
