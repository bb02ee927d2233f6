using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;

namespace Onboarding.Inventory.Records;

/// <summary>
/// Parses an uploaded file into device records, validating it against the XSD that matches the YANG module.
/// Hostile XML is refused: no DTD (so no entity expansion or external entities), no resolver, bounded size.
/// </summary>
internal static class DeviceRecordParser
{
    public const string Namespace = "urn:onboarding:params:xml:ns:yang:onboarding-device";
    public const int MaxDocumentCharacters = 16 * 1024 * 1024;

    private static readonly XmlSchemaSet Schemas = LoadSchemas();

    /// <summary>Either the records or the reasons the document is invalid (with line numbers); never throws on bad input.</summary>
    public static (IReadOnlyList<DeviceRecord> Records, IReadOnlyList<string> Errors) Parse(ReadOnlyMemory<byte> content)
    {
        var errors = new List<string>();
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = MaxDocumentCharacters,
            MaxCharactersFromEntities = 0,
            ValidationType = ValidationType.Schema,
            Schemas = Schemas,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
        };
        settings.ValidationEventHandler += (_, e) =>
        {
            if (errors.Count < 50)
                errors.Add($"line {e.Exception.LineNumber}: {e.Message}");
        };

        XDocument document;
        try
        {
            using var stream = new MemoryStream(content.ToArray(), writable: false);
            using var reader = XmlReader.Create(stream, settings);
            document = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            errors.Add($"line {ex.LineNumber}: not well-formed XML: {ex.Message}");
            return ([], errors);
        }

        var root = document.Root!;
        if (root.Name.Namespace != Namespace || (root.Name.LocalName != "devices" && root.Name.LocalName != "device"))
            errors.Insert(0, $"the root element must be <devices> or <device> in namespace {Namespace}, not <{root.Name.LocalName}> in '{root.Name.NamespaceName}'");
        if (errors.Count > 0)
            return ([], errors);

        var elements = root.Name.LocalName == "device" ? [root] : root.Elements(XName.Get("device", Namespace));
        return ([.. elements.Select(ToRecord)], errors);
    }

    private static DeviceRecord ToRecord(XElement device)
    {
        string? Leaf(string name) => device.Element(XName.Get(name, Namespace))?.Value.Trim();
        return new DeviceRecord(
            ((IXmlLineInfo)device).LineNumber,
            Leaf("serial-number")!,
            Leaf("owner")!,
            Leaf("manufacturer")!,
            Leaf("model")!,
            Leaf("certificate")!,
            Leaf("mac-address")?.ToLowerInvariant(),
            Leaf("hardware-model"),
            Leaf("os-version"),
            Leaf("order-id"));
    }

    private static XmlSchemaSet LoadSchemas()
    {
        using var stream = typeof(DeviceRecordParser).Assembly.GetManifestResourceStream("onboarding-device.xsd")!;
        var schemas = new XmlSchemaSet { XmlResolver = null };
        using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
        schemas.Add(Namespace, reader);
        schemas.Compile();
        return schemas;
    }
}
