using System.Net;
using System.Text.Json;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>Asserts that a response is RFC 9457 ProblemDetails with the expected status, and returns its body.</summary>
public static class Problem
{
    public static async Task<JsonElement> AssertAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, json.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("title").GetString()));
        return json;
    }

    public static async Task<JsonElement> AssertValidationAsync(HttpResponseMessage response, params string[] fields)
    {
        var json = await AssertAsync(response, HttpStatusCode.BadRequest);
        var errors = json.GetProperty("errors");
        foreach (var field in fields)
            Assert.True(errors.TryGetProperty(field, out _), $"No error for '{field}' in {errors}");
        return json;
    }
}
