using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Onboarding.DeviceSim.Bootstrap;
using Onboarding.DeviceSim.CallHome;

namespace Onboarding.DeviceSim.Fleet;

/// <summary>How a fleet powers on and what is wrong with some of it.</summary>
/// <param name="BootstrapConcurrency">Devices in RFC 8572 bootstrap at once.</param>
/// <param name="CallHomeConcurrency">Devices calling home at once; 0: no limit.</param>
/// <param name="Ramp">Power-on spread: device i of N powers on at i/N of it; zero: all at once.</param>
/// <param name="FactoryDirectory">The directory <c>mint</c> wrote: an unknown-serial device is issued by its factory CA (factory-ca.key).</param>
internal sealed record FleetSettings(BootstrapSettings Bootstrap, CallHomeSettings CallHome, int BootstrapConcurrency, int CallHomeConcurrency,
    TimeSpan Ramp, FaultPlan Faults, string FactoryDirectory);

/// <summary>
/// A fleet powering on: each device goes through RFC 8572 bootstrap and then straight on to call home (RFC 8071), its
/// stages time-stamped as it goes, so a live view can count them and a report can time them. Faulty devices misbehave as
/// <see cref="DeviceFault"/> says; every device ends with the stage it reached and, if it gave up, its own reason.
/// </summary>
internal sealed class FleetRun
{
    /// <summary>Where a device whose real-time clock lost power thinks it is: a typical RTC default.</summary>
    public static readonly DateTimeOffset BadClockTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly IReadOnlyList<DeviceIdentity> _identities;
    private readonly FleetSettings _settings;
    private readonly Lazy<X509Certificate2> _strangerCa = new(StrangerCa);
    private readonly Lazy<X509Certificate2> _factoryCa;

    public FleetRun(IReadOnlyList<DeviceIdentity> identities, FleetSettings settings)
    {
        _identities = identities;
        _settings = settings;
        Devices = [.. identities.Select((identity, i) => new FleetDevice(identity.Serial, settings.Faults[i]))];
        _factoryCa = new(() => FactoryCa(settings.FactoryDirectory));
        if (Devices.Any(d => d.Fault == DeviceFault.UnknownSerial) && !File.Exists(Path.Combine(settings.FactoryDirectory, FactoryMint.CaKeyFile)))
            throw new ArgumentException($"unknown-serial devices are issued by the factory CA: {Path.Combine(settings.FactoryDirectory, FactoryMint.CaKeyFile)} is missing");
    }

    public IReadOnlyList<FleetDevice> Devices { get; }

    public CallHomeCounters CallHomeCounters { get; } = new();

    /// <summary>The serial an unknown-serial device presents instead of its own: issued by the factory CA, never ordered.</summary>
    public static string UnorderedSerial(string serial) => serial + "X";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var bootstrapSlots = new SemaphoreSlim(Math.Max(1, _settings.BootstrapConcurrency));
        using var callHomeSlots = new SemaphoreSlim(_settings.CallHomeConcurrency > 0 ? _settings.CallHomeConcurrency : Math.Max(1, Devices.Count));
        var count = Devices.Count;
        await Task.WhenAll(Devices.Select((device, i) => Task.Run(async () =>
        {
            var arrival = count <= 1 ? TimeSpan.Zero : _settings.Ramp * i / count;
            if (arrival > TimeSpan.Zero)
                await Task.Delay(arrival, cancellationToken);
            try
            {
                await RunDeviceAsync(device, _identities[i], bootstrapSlots, callHomeSlots, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One device's surprise ends that device, with the surprise as its reason, never the run.
                device.Fail(device.LastStage == FleetStage.PoweredOn ? FleetStage.Redirected : device.LastStage + 1, "unexpected-error", $"{e.GetType().Name}: {e.Message}");
            }
        }, CancellationToken.None)));
    }

    private async Task RunDeviceAsync(FleetDevice device, DeviceIdentity minted, SemaphoreSlim bootstrapSlots, SemaphoreSlim callHomeSlots,
        CancellationToken cancellationToken)
    {
        DeviceIdentity identity;
        try
        {
            identity = IdentityOf(device, minted);
        }
        catch (Exception e) when (e is CryptographicException or IOException or ArgumentException)
        {
            device.Fail(FleetStage.Redirected, "bad-identity", e.Message);
            return;
        }
        device.PresentedSerial = identity.Serial;

        await bootstrapSlots.WaitAsync(cancellationToken);
        device.Reach(FleetStage.PoweredOn);
        try
        {
            var bootstrap = device.Fault == DeviceFault.BadClock
                ? _settings.Bootstrap with { ClockSkew = BadClockTime - DateTimeOffset.UtcNow }
                : _settings.Bootstrap;
            device.Bootstrap = await new SztpDevice(identity, bootstrap) { Redirected = () => device.Reach(FleetStage.Redirected) }.RunAsync(cancellationToken);
        }
        finally
        {
            bootstrapSlots.Release();
        }
        if (!device.Bootstrap.Ok)
        {
            device.Fail(device.Reached(FleetStage.Redirected) ? FleetStage.Bootstrapped : FleetStage.Redirected, device.Bootstrap.Reason!, device.Bootstrap.Detail ?? "");
            return;
        }
        device.Reach(FleetStage.Bootstrapped);

        await callHomeSlots.WaitAsync(cancellationToken);
        try
        {
            var callHome = device.Fault == DeviceFault.DropMidConfig ? _settings.CallHome with { Fault = CallHomeFault.DropMidConfig } : _settings.CallHome;
            device.CallHome = await new CallHomeDevice(identity, callHome, CallHomeCounters)
            {
                SessionEstablished = () => device.Reach(FleetStage.CalledHome),
                FirstConfigured = () => device.Reach(FleetStage.Configured),
                AttemptFailed = device.NoteCallHomeFailure,
            }.RunAsync(cancellationToken);
        }
        finally
        {
            callHomeSlots.Release();
        }
        if (device.CallHome.Ok)
            device.Finish();
        else
            device.Fail(device.Reached(FleetStage.CalledHome) ? FleetStage.Configured : FleetStage.CalledHome, device.CallHome.Reason!, device.CallHome.Detail ?? "");
    }

    /// <summary>The IDevID the device presents: its own, or the faulty one its fault calls for.</summary>
    private DeviceIdentity IdentityOf(FleetDevice device, DeviceIdentity minted)
    {
        var keyType = minted.Certificate.GetECDsaPublicKey() is null ? DeviceKeyType.Rsa2048 : DeviceKeyType.P256;
        return device.Fault switch
        {
            DeviceFault.WrongCert => Issue(_strangerCa.Value, minted.Serial, keyType),
            DeviceFault.UnknownSerial => Issue(_factoryCa.Value, UnorderedSerial(minted.Serial), keyType),
            _ => minted,
        };
    }

    private static DeviceIdentity Issue(X509Certificate2 ca, string serial, DeviceKeyType keyType)
    {
        var pem = FactoryMint.IssueDevicePem(ca, serial, keyType);
        return new DeviceIdentity(serial, X509Certificate2.CreateFromPem(pem, pem), []);
    }

    private static X509Certificate2 FactoryCa(string directory) =>
        X509Certificate2.CreateFromPemFile(Path.Combine(directory, FactoryMint.CaFile), Path.Combine(directory, FactoryMint.CaKeyFile));

    /// <summary>A CA that looks like a factory's but that no manufacturer registered.</summary>
    private static X509Certificate2 StrangerCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Not the factory CA, O=Onboarding DeviceSim", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }
}
