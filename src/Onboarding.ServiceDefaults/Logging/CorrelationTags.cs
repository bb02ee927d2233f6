using Serilog.Core;
using Serilog.Events;

namespace Onboarding.ServiceDefaults.Logging;

/// <summary>
/// Renders the correlation properties an event carries (request, SSH/MQTT connection, device serial) as one
/// short <c>Tags</c> property for the plain console format, e.g. <c> [req=0HN… serial=JN1234]</c>, and nothing
/// when there are none. The JSON format carries the properties themselves.
/// </summary>
internal sealed class CorrelationTags : ILogEventEnricher
{
    private static readonly (string Property, string Tag)[] Known =
        [("RequestId", "req"), ("ConnectionId", "conn"), ("ManufacturerId", "mfr"), ("Serial", "serial")];

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        var parts = new List<string>(Known.Length);
        foreach (var (property, tag) in Known)
        {
            if (logEvent.Properties.TryGetValue(property, out var value) && value is ScalarValue { Value: not null } scalar)
                parts.Add($"{tag}={scalar.Value}");
        }

        logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("Tags", parts.Count == 0 ? "" : $" [{string.Join(' ', parts)}]"));
    }
}
