using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.Inventory.Contracts;
using Onboarding.NmsBootstrap.Answers;
using Onboarding.NmsBootstrap.Contracts;
using Onboarding.Ssh.Keys;

namespace Onboarding.NmsBootstrap.Api;

internal static class DeviceBootstrapApi
{
    public static void MapDeviceBootstrapApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/devices").WithTags("Devices").RequireAuthorization();
        group.MapGet("/{id}/bootstrap-preview", Preview)
            .WithName("PreviewDeviceBootstrap")
            .WithSummary("What the NMS bootstrap server would give this device now (call-home style, address, configuration), or why it would refuse it. No side effects.");
        group.MapGet("/{id}/ssh-host-keys", HostKeys)
            .WithName("GetDeviceSshHostKeys")
            .WithSummary("The SSH host keys the device reported at bootstrap-complete, pinned for call home.");
    }

    private static async Task<Results<Ok<BootstrapPreview>, ValidationProblem, ProblemHttpResult>> Preview(
        string id, ClaimsPrincipal user, IDeviceDirectory directory, DeviceAuthentication authentication, CallHomePlan plan,
        INmsCallHomeIdentity identity, IOptions<NmsBootstrapOptions> options, CancellationToken cancellationToken)
    {
        var (device, invalid) = await FindOwnAsync(id, user, directory, cancellationToken);
        if (invalid is not null)
            return invalid;
        if (device is null)
            return NotFound();

        var der = await directory.GetCertificateAsync(device.Id, cancellationToken);
        if (der is null)
            return NotFound();
        using var certificate = X509CertificateLoader.LoadCertificate(der);
        // As a device presenting its bookkept certificate without intermediates would be checked.
        var check = await authentication.CheckAsync(device, certificate, [], cancellationToken);
        var style = check.Trust?.CallHomeStyle;
        var configuration = style is { } s ? Encoding.UTF8.GetString(plan.Configuration(device, s)) : null;
        return TypedResults.Ok(new BootstrapPreview(device.Id, device.SerialNumber, device.State, check.Served,
            check.Refusal is { } r ? new BootstrapRefusalView(r.Status, r.AppTag, r.Reason) : null,
            style, new CallHomeEndpoint(options.Value.CallHomeAddress, options.Value.CallHomePort, identity.UserName, identity.PublicKeyLine),
            "merge", configuration));
    }

    private static async Task<Results<Ok<DeviceHostKeys>, ValidationProblem, ProblemHttpResult>> HostKeys(
        string id, ClaimsPrincipal user, IDeviceDirectory directory, IPinnedHostKeys pins, CancellationToken cancellationToken)
    {
        var (device, invalid) = await FindOwnAsync(id, user, directory, cancellationToken);
        if (invalid is not null)
            return invalid;
        if (device is null)
            return NotFound();
        var keys = await pins.GetAsync(device.Id, cancellationToken);
        return TypedResults.Ok(new DeviceHostKeys(device.Id, device.SerialNumber,
            [.. keys.Select(k => new PinnedHostKeyView(k.Algorithm, k.Fingerprint, SshPublicKey.Parse(k.KeyData).ToAuthorizedKeysLine(), k.PinnedAt))]));
    }

    /// <summary>Another customer's device answers exactly like one that does not exist: ids must not confirm what others own.</summary>
    private static async Task<(DeviceIdentity? Device, ValidationProblem? Invalid)> FindOwnAsync(string id, ClaimsPrincipal user, IDeviceDirectory directory,
        CancellationToken cancellationToken)
    {
        if (!DeviceId.TryParse(id, null, out var deviceId))
        {
            return (null, TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["id"] = ["A device id is a UUID, e.g. 0193a5c2-7f1e-7c3a-9d2b-5e8f0a1b2c3d."],
            }));
        }

        var device = await directory.GetAsync(deviceId, cancellationToken);
        return (device is not null && device.CustomerId == user.GetCustomerId() ? device : null, null);
    }

    private static ProblemHttpResult NotFound() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Device not found", detail: "You have no device with that id.");
}
