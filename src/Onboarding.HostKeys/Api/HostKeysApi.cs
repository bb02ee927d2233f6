using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Onboarding.HostKeys.Contracts;

namespace Onboarding.HostKeys.Api;

internal static class HostKeysApi
{
    public static void MapHostKeysApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/nms").WithTags("NMS");
        group.MapGet("/host-keys", GetHostKeys)
            .WithName("GetNmsHostKeys")
            .WithSummary("The NMS SSH host keys and their SHA256 fingerprints, for a manufacturer's known_hosts.")
            .AllowAnonymous();
    }

    private static Ok<IReadOnlyList<HostKeyFingerprint>> GetHostKeys(INmsHostKeys hostKeys) => TypedResults.Ok(hostKeys.Fingerprints);
}
