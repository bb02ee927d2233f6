using System.Text;
using System.Xml;

namespace Onboarding.Redirect.Handoff;

/// <summary>
/// One device record for the NMS: the leaves of the YANG grouping device-record (docs/yang/onboarding-device@2026-11-21.yang)
/// the NMS checks (owner = the customer's NMS id, certificate whose serial equals serial-number, chaining to the CA the
/// customer registered for this manufacturer).
/// </summary>
internal sealed record DeviceRecordEntry(string SerialNumber, Guid Owner, string Manufacturer, string Model, string CertificatePem, Guid OrderId);

/// <summary>The <c>&lt;devices&gt;</c> document of several records, as the NMS's SFTP drop reads it.</summary>
internal static class DeviceRecordDocument
{
    public const string Namespace = "urn:onboarding:params:xml:ns:yang:onboarding-device";

    // YANG: manufacturer 1..200, model 1..100 characters.
    private const int MaxManufacturer = 200;
    private const int MaxModel = 100;

    public static byte[] Write(IReadOnlyCollection<DeviceRecordEntry> records)
    {
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true };
        using var buffer = new MemoryStream();
        using (var xml = XmlWriter.Create(buffer, settings))
        {
            xml.WriteStartDocument();
            xml.WriteStartElement("devices", Namespace);
            foreach (var record in records)
            {
                xml.WriteStartElement("device", Namespace);
                xml.WriteElementString("serial-number", Namespace, record.SerialNumber);
                xml.WriteElementString("owner", Namespace, record.Owner.ToString());
                xml.WriteElementString("manufacturer", Namespace, Clip(record.Manufacturer, MaxManufacturer));
                xml.WriteElementString("model", Namespace, Clip(record.Model, MaxModel));
                xml.WriteElementString("certificate", Namespace, record.CertificatePem.Trim());
                xml.WriteElementString("order-id", Namespace, record.OrderId.ToString());
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
            xml.WriteEndDocument();
        }

        return buffer.ToArray();
    }

    private static string Clip(string value, int max) => value.Length <= max ? value : value[..max];
}
