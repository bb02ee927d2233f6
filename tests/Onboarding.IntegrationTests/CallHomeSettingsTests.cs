using Microsoft.Extensions.Options;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

/// <summary>Call-home settings that cannot work stop the host's start with a message naming them.</summary>
public sealed class CallHomeSettingsTests
{
    [Theory]
    [InlineData("Nms:CallHome:MaxConcurrentPreconfigurations", "0", "Nms:CallHome:MaxConcurrentPreconfigurations must be at least 1")]
    [InlineData("Nms:CallHome:KeepaliveCountMax", "0", "Nms:CallHome:KeepaliveCountMax at least 1")]
    [InlineData("Nms:CallHome:MaxUnauthenticatedPerAddress", "0", "MaxUnauthenticatedPerAddress, ConnectionsPerAddressPerSecond and ConnectionBurstPerAddress must be at least 1")]
    [InlineData("Nms:CallHome:HostStaleAfter", "00:00:05", "Nms:CallHome:HostStaleAfter longer than it")]
    [InlineData("Nms:CallHome:InternalApiUrl", "ftp://10.0.0.5/", "Nms:CallHome:InternalApiUrl must be an absolute http or https URL")]
    public async Task Settings_that_cannot_work_stop_the_start(string key, string value, string message)
    {
        await using var badFactory = new OnboardingFactory().With(key, value);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(badFactory.InitializeAsync);

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
