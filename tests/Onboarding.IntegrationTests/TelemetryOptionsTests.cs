using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Telemetry;

namespace Onboarding.IntegrationTests;

/// <summary>Telemetry settings that cannot work stop the real host at start, with the reason.</summary>
public class TelemetryOptionsTests
{
    [Theory]
    [InlineData("4001", "8000")] // the broker could not send the next batch while one is written
    [InlineData("0", "8000")]
    [InlineData("2000", "3999")]
    public async Task A_batch_larger_than_half_the_receive_maximum_stops_the_start(string batchSize, string receiveMaximum)
    {
        await using var factory = new OnboardingFactory()
            .With("Telemetry:Ingestion:BatchSize", batchSize)
            .With("Telemetry:Ingestion:ReceiveMaximum", receiveMaximum);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(factory.InitializeAsync);

        Assert.Contains("Telemetry:Ingestion:BatchSize must be at least 1 and at most half of Telemetry:Ingestion:ReceiveMaximum", error.Message);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:05")]
    [InlineData("00:00:01.500")] // mosquitto takes whole seconds
    public async Task An_autosave_interval_mosquitto_cannot_take_stops_the_start(string interval)
    {
        await using var factory = new OnboardingFactory().With("Telemetry:Broker:AutosaveInterval", interval);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(factory.InitializeAsync);

        Assert.Contains("Telemetry:Broker:AutosaveInterval must be whole seconds, at least 1", error.Message);
    }

    [Theory]
    [InlineData(null, 2000)] // the defaults
    [InlineData("4000", 4000)] // exactly half of the default Receive Maximum
    public async Task The_defaults_and_a_batch_of_half_the_receive_maximum_start(string? batchSize, int expected)
    {
        await using var factory = new OnboardingFactory();
        if (batchSize is not null)
            factory.With("Telemetry:Ingestion:BatchSize", batchSize);

        await factory.InitializeAsync();

        Assert.Equal(expected, factory.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value.Ingestion.BatchSize);
    }
}
