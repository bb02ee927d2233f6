using System.Net;
using System.Net.Http.Json;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

public sealed class SignUpLimitedFactory : OnboardingFactory
{
    public SignUpLimitedFactory() => With("Accounts:SignUp:PermitLimit", "3").With("Accounts:SignUp:Window", "01:00:00");
}

public sealed class FailedAuthLimitedFactory : OnboardingFactory
{
    public FailedAuthLimitedFactory() =>
        With("Accounts:FailedAuthentication:PermitLimit", "3").With("Accounts:FailedAuthentication:Window", "01:00:00");
}

public class SignUpRateLimitTests(SignUpLimitedFactory factory) : IClassFixture<SignUpLimitedFactory>
{
    [Fact]
    public async Task Sign_up_beyond_the_limit_is_429_problem_with_retry_after()
    {
        using var client = factory.CreateClient();
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/customers", new { name = $"C{i}", contactEmail = "a@b.example" })).StatusCode);

        var refused = await client.PostAsJsonAsync("/api/customers", new { name = "C4", contactEmail = "a@b.example" });
        await Problem.AssertAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.NotNull(refused.Headers.RetryAfter);
    }
}

public class FailedAuthenticationRateLimitTests(FailedAuthLimitedFactory factory) : IClassFixture<FailedAuthLimitedFactory>
{
    [Fact]
    public async Task After_too_many_wrong_keys_even_a_right_key_is_429_from_that_address()
    {
        var (good, _) = await factory.SignUpAsync();
        Assert.Equal(HttpStatusCode.OK, (await good.GetAsync("/api/customers/me")).StatusCode);

        using var bad = factory.CreateCustomerClient("onb_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        for (var i = 0; i < 3; i++)
            await Problem.AssertAsync(await bad.GetAsync("/api/customers/me"), HttpStatusCode.Unauthorized);

        var blocked = await good.GetAsync("/api/customers/me");
        await Problem.AssertAsync(blocked, HttpStatusCode.TooManyRequests);
        Assert.NotNull(blocked.Headers.RetryAfter);
        Assert.Contains(factory.Logs.RenderedMessages, m => m.Contains("too many failures", StringComparison.Ordinal));
    }
}
