namespace Onboarding.Mqtt.Packets;

/// <summary>Topic name and topic filter rules (MQTT 5.0 §4.7, shared subscriptions §4.8.2).</summary>
internal static class MqttTopic
{
    private const string SharePrefix = "$share/";

    // MQTT 5.0 §4.7.3: at least one character; §3.3.2.1: no wildcards in a Topic Name.
    public static bool IsValidTopicName(string topic) =>
        topic.Length > 0 && topic.IndexOfAny(['+', '#', '\0']) < 0;

    public static bool IsValidTopicFilter(string filter)
    {
        if (filter.StartsWith(SharePrefix, StringComparison.Ordinal))
        {
            // MQTT 5.0 §4.8.2: $share/{ShareName}/{filter}; ShareName is non-empty without '/', '+' or '#'.
            var rest = filter.AsSpan(SharePrefix.Length);
            var slash = rest.IndexOf('/');
            if (slash <= 0)
                return false;
            var shareName = rest[..slash];
            if (shareName.IndexOfAny('+', '#') >= 0)
                return false;
            return IsValidPlainFilter(rest[(slash + 1)..]);
        }
        return IsValidPlainFilter(filter);
    }

    public static bool IsShared(string filter) => filter.StartsWith(SharePrefix, StringComparison.Ordinal);

    private static bool IsValidPlainFilter(ReadOnlySpan<char> filter)
    {
        if (filter.IsEmpty || filter.Contains('\0'))
            return false;
        for (var i = 0; i < filter.Length; i++)
        {
            var c = filter[i];
            if (c == '#')
            {
                // MQTT 5.0 §4.7.1.2: '#' is alone or after '/', and is the last character.
                if (i != filter.Length - 1 || (i > 0 && filter[i - 1] != '/'))
                    return false;
            }
            else if (c == '+')
            {
                // MQTT 5.0 §4.7.1.3: '+' occupies an entire level.
                if ((i > 0 && filter[i - 1] != '/') || (i < filter.Length - 1 && filter[i + 1] != '/'))
                    return false;
            }
        }
        return true;
    }
}
