using System.Text;
using Onboarding.Telemetry.Ingestion;

namespace Onboarding.IntegrationTests;

/// <summary>The ingester's one-pass payload parser: what it accepts, what it stores, and the reason for everything else.</summary>
public class TelemetryMessageTests
{
    private const string Serial = "SN-1";
    private const string Valid =
        "{\"device_id\":\"SN-1\",\"device_name\":1000001,\"latitude\":48.1,\"longitude\":11.5,\"battery_level\":87.5,\"signal_date\":\"2026-11-21T10:00:00Z\"";

    private static TelemetryMessage? Parse(string json, out string? reason) => TelemetryMessage.Parse(Encoding.UTF8.GetBytes(json), Serial, out reason);

    [Fact]
    public void A_reading_keeps_its_fields_and_its_further_metrics_in_order()
    {
        var message = Parse(Valid + ""","temperature":21.50,"signal_strength":-71,"big":1e300}""", out var reason);

        Assert.Null(reason);
        Assert.NotNull(message);
        Assert.Equal(Serial, message.DeviceId);
        Assert.Equal(1000001, message.DeviceName);
        Assert.Equal(48.1, message.Latitude);
        Assert.Equal(11.5, message.Longitude);
        Assert.Equal(87.5, message.BatteryLevel);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero), message.SignalDate);
        Assert.Equal(["temperature", "signal_strength", "big"], message.MetricNames);
        Assert.Equal([21.5, -71, 1e300], message.MetricValues);
    }

    [Fact]
    public void Without_further_metrics_the_metrics_are_empty()
    {
        var message = Parse(Valid + "}", out _)!;

        Assert.Empty(message.MetricNames);
        Assert.Empty(message.MetricValues);
    }

    [Fact]
    public void Metric_names_are_shared_between_readings_and_never_mixed_up()
    {
        var first = Parse(Valid + ""","temperature":1,"humidity":2}""", out _)!;
        var second = Parse(Valid + ""","humidity":3,"temperature":4}""", out _)!;

        Assert.Same(first.MetricNames[0], second.MetricNames[1]);
        Assert.Equal(["humidity", "temperature"], second.MetricNames);
        Assert.Equal([3d, 4d], second.MetricValues);
        Assert.Equal([1d, 2d], first.MetricValues);
    }

    [Fact]
    public void A_metric_name_too_long_to_decode_is_refused_before_it_is_decoded()
    {
        // More JSON bytes than 64 characters can take even escaped (\uXXXX each): refused without copying the name.
        Assert.Null(Parse(Valid + ",\"" + new string('a', 6 * 64 + 1) + "\":1}", out var reason));
        Assert.Equal("metric names are 1 to 64 characters", reason);
    }

    [Fact]
    public void A_reading_may_have_up_to_64_further_metrics()
    {
        string Metrics(int count) => string.Concat(Enumerable.Range(0, count).Select(i => $",\"m{i}\":{i}"));

        Assert.Equal(64, Parse(Valid + Metrics(64) + "}", out _)!.MetricNames.Length);
        Assert.Null(Parse(Valid + Metrics(65) + "}", out var reason));
        Assert.Equal("a reading has at most 64 further metrics", reason);
    }

    [Theory]
    [InlineData("2026-11-21T12:00:00+02:00", "2026-11-21T10:00:00Z")]
    [InlineData("2026-11-21T10:00:00", "2026-11-21T10:00:00Z")] // no offset: UTC, not the server's zone
    [InlineData("2026-11-21T10:00:00.1234567Z", "2026-11-21T10:00:00.1234567Z")]
    public void Signal_dates_are_stored_in_utc(string sent, string stored)
    {
        var json = Valid.Replace("2026-11-21T10:00:00Z", sent, StringComparison.Ordinal) + "}";

        var message = Parse(json, out var reason);

        Assert.Null(reason);
        Assert.Equal(DateTimeOffset.Parse(stored, System.Globalization.CultureInfo.InvariantCulture), message!.SignalDate);
        Assert.Equal(TimeSpan.Zero, message.SignalDate.Offset);
    }

    [Fact]
    public void A_quoted_device_name_is_accepted()
    {
        Assert.Equal(1000001, Parse(Valid.Replace("1000001", "\"1000001\"", StringComparison.Ordinal) + "}", out _)!.DeviceName);
    }

    [Fact]
    public void An_escaped_metric_name_is_decoded_before_it_is_stored()
    {
        var message = Parse(Valid + ""","temp\u00e9rature":1}""", out var reason);

        Assert.Null(reason);
        Assert.Equal(["température"], message!.MetricNames);
    }

    [Theory]
    [InlineData("{not json", "not JSON:")]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("{\"device_id\":\"SN-1\"} trailing", "not JSON:")]
    [InlineData("{\"device_id\":\"SN-1\"}", "missing device_name")]
    [InlineData("{\"device_id\":\"SN-1\",\"device_name\":1,\"latitude\":1,\"longitude\":2,\"signal_date\":\"2026-01-01T00:00:00Z\"}", "missing battery_level")]
    [InlineData("{\"device_id\":\"\"}", "device_id must be a non-empty string")]
    [InlineData("{\"device_id\":7}", "device_id must be a non-empty string")]
    [InlineData("{\"device_id\":\"SN-2\"}", "device_id 'SN-2' is not the serial in the topic 'SN-1'")]
    [InlineData("{\"device_id\":\"SN-1\",\"device_id\":\"SN-1\"}", "duplicate device_id")]
    [InlineData("{\"device_name\":\"-5\"}", "device_name must be the number issued with the credentials")]
    [InlineData("{\"device_name\":1.5}", "device_name must be the number issued with the credentials")]
    [InlineData("{\"latitude\":91}", "latitude must be a number from -90 to 90")]
    [InlineData("{\"longitude\":\"11\"}", "longitude must be a number from -180 to 180")]
    [InlineData("{\"battery_level\":-1}", "battery_level must be a number from 0 to 100")]
    [InlineData("{\"signal_date\":\"yesterday\"}", "signal_date must be an ISO 8601 date and time")]
    [InlineData("{\"signal_date\":1700000000}", "signal_date must be an ISO 8601 date and time")]
    [InlineData("{\"temperature\":\"warm\"}", "metric temperature must be a number")]
    [InlineData("{\"nested\":{\"a\":1}}", "metric nested must be a number")]
    [InlineData("{\"huge\":1e400}", "metric huge must be a number")]
    [InlineData("{\"a\\u0000b\":1}", "metric names must not contain control characters")]
    [InlineData("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}", "metric names are 1 to 64 characters")]
    [InlineData("{\"\\u0061aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}", "metric names are 1 to 64 characters")]
    [InlineData("{\"\":1}", "metric names are 1 to 64 characters")]
    [InlineData("{\"a\u007fb\":1}", "metric names must not contain control characters")]
    [InlineData("{\"t\":1,\"t\":2}", "duplicate metric t")]
    [InlineData("{\"t\":1,\"\\u0074\":2}", "duplicate metric t")]
    [InlineData("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}", "metric a must be a number")]
    public void Anything_else_is_refused_with_its_reason(string json, string expected)
    {
        Assert.Null(Parse(json, out var reason));
        Assert.NotNull(reason);
        Assert.StartsWith(expected, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_beyond_the_limit_is_not_json_even_inside_a_refused_value()
    {
        Assert.Null(Parse("[[[[[[1]]]]]]", out var reason));
        Assert.StartsWith("not JSON:", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("devices/SN-1/telemetry", "Telemetry", "SN-1")]
    [InlineData("devices/SN-1/state", "State", "SN-1")]
    [InlineData("devices/SN-1/config", "Other", null)]
    [InlineData("devices//telemetry", "Other", null)]
    [InlineData("devices/SN-1/telemetry/x", "Other", null)]
    [InlineData("other/SN-1/telemetry", "Other", null)]
    [InlineData("devices/SN-4567890123456789012345678901234567890123456789012345678901234/telemetry", "Telemetry",
        "SN-4567890123456789012345678901234567890123456789012345678901234")] // 64 characters
    [InlineData("devices/SN-45678901234567890123456789012345678901234567890123456789012345/telemetry", "Other", null)] // 65
    public void Topics_name_the_serial_and_what_is_reported(string topic, string kind, string? serial)
    {
        Assert.Equal(kind, TelemetryMessage.ParseTopic(topic, out var parsed).ToString());
        Assert.Equal(serial, parsed);
    }
}
