using System.Security.Cryptography.X509Certificates;

namespace Onboarding.DeviceSim.Bootstrap;

/// <summary>A simulated device's IDevID: its certificate with private key, the intermediates it sends, and its serial.</summary>
internal sealed record DeviceIdentity(string Serial, X509Certificate2 Certificate, IReadOnlyList<X509Certificate2> Intermediates)
{
    /// <summary>Reads a PEM file holding the device certificate, any intermediates after it, and the private key.</summary>
    public static DeviceIdentity Load(string path)
    {
        var certificate = X509Certificate2.CreateFromPemFile(path, path);
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(path);
        var intermediates = all.Where(c => !c.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span)).ToList();
        return new DeviceIdentity(SerialOf(certificate), certificate, intermediates);
    }

    /// <summary>Every <c>*.pem</c> of <c>&lt;directory&gt;/devices</c> (what <c>mint</c> wrote), in name order.</summary>
    public static IReadOnlyList<DeviceIdentity> LoadDirectory(string directory)
    {
        var devices = Path.Combine(directory, FactoryMint.DevicesDirectory);
        if (!Directory.Exists(devices))
            throw new DirectoryNotFoundException($"{devices} does not exist; run `mint` first");
        return Directory.EnumerateFiles(devices, "*.pem").Order(StringComparer.Ordinal).Select(Load).ToList();
    }

    /// <summary>The serial the device reports about itself: subject serialNumber (802.1AR), else the CN.</summary>
    public static string SerialOf(X509Certificate2 certificate)
    {
        string? commonName = null;
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            var oid = rdn.GetSingleElementType().Value;
            if (oid == "2.5.4.5")
                return rdn.GetSingleElementValue() ?? "";
            if (oid == "2.5.4.3")
                commonName = rdn.GetSingleElementValue();
        }
        return commonName ?? throw new InvalidOperationException($"'{certificate.Subject}' names no serialNumber and no CN");
    }
}
