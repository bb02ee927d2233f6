using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Onboarding.Bootstrap;
using Onboarding.Redirect.Bootstrap;
using Onboarding.Redirect.Orders;
using Onboarding.Redirect.Security;
using Onboarding.ServiceDefaults.Http;

namespace Onboarding.Redirect.Api;

/// <param name="Url">What devices are given (factory default, USB file or DHCP option 143): <c>https://{Redirect:PublicHost}:{port}</c>.</param>
/// <param name="TrustAnchorPem">The certificate devices must trust for this server's TLS certificate.</param>
/// <param name="TrustAnchorCms">The same as a certificates-only CMS, base64 (RFC 8572 trust-anchor form).</param>
internal sealed record BootstrapServerView(string Url, string TrustAnchorPem, string TrustAnchorCms, string TlsCertificateSha256);

/// <summary>Give a serial number, or a device certificate (PEM, with its intermediates after it) as the device would present it.</summary>
internal sealed record RedirectPreviewRequest(string? SerialNumber, string? CertificatePem);

internal sealed record PreviewDeviceType(Guid Id, string Name);

internal sealed record PreviewProfile(Guid Id, Guid CustomerId, string? CustomerName, string SftpHost, int SftpPort);

internal sealed record PreviewRedirect(string Address, int Port, bool HasTrustAnchor, string BootstrapUrl);

/// <param name="Outcome"><c>redirect</c> or <c>refused</c>.</param>
/// <param name="Status">The HTTP status the device would get (200, 401, 403, 404).</param>
/// <param name="HandOff">For a redirect: whether the device record must still go to the NMS first (<c>pending</c>) or is there (<c>done</c>).</param>
internal sealed record RedirectPreview(string Outcome, int Status, string? SerialNumber, string? Reason, string? ErrorAppTag,
    PreviewDeviceType? DeviceType, OrderView? Order, PreviewProfile? NmsProfile, PreviewRedirect? Redirect, string? HandOff);

/// <summary>The redirect server's device-facing port as manufacturers configure devices for it, and a dry run of its answer.</summary>
internal static class BootstrapApi
{
    private const int MaxPemLength = 64 * 1024;

    public static void MapBootstrapApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/redirect").WithTags("Redirect: bootstrap server")
            .RequireAuthorization(ManufacturerClaims.Policy)
            .WithMetadata(new SecuritySchemeMetadata(ManufacturerClaims.OpenApiScheme));

        group.MapGet("/bootstrap-server", GetServer)
            .WithName("GetRedirectBootstrapServer")
            .WithSummary("The device-facing RFC 8572 URL of this redirect server and the TLS trust anchor to bake into devices.");
        group.MapPost("/bootstrap-preview", Preview)
            .WithName("PreviewBootstrap")
            .WithSummary("What a device (by serial or certificate) would get from get-bootstrapping-data, and why not; changes nothing.");
    }

    private static async Task<Ok<BootstrapServerView>> GetServer(RedirectBootstrapIdentity identity, IOptions<RedirectOptions> options,
        [FromKeyedServices(RedirectModule.BootstrapServerName)] BootstrapServerEndpoint endpoint)
    {
        var settings = options.Value;
        var port = settings.Bootstrap.Port;
        if (port == 0 && settings.Bootstrap.Enabled)
            port = (await endpoint.BoundEndpoint.WaitAsync(TimeSpan.FromSeconds(10))).Port;
        var host = settings.PublicHost.Contains(':', StringComparison.Ordinal) ? $"[{settings.PublicHost}]" : settings.PublicHost;
        return TypedResults.Ok(new BootstrapServerView($"https://{host}:{port}", identity.TrustAnchor.ExportCertificatePem(),
            Convert.ToBase64String(identity.TrustAnchorCms), identity.TlsCertificate.GetCertHashString(HashAlgorithmName.SHA256)));
    }

    private static async Task<Results<Ok<RedirectPreview>, ValidationProblem>> Preview(RedirectPreviewRequest request, ClaimsPrincipal user,
        RedirectDecisions decisions, CancellationToken cancellationToken)
    {
        var manufacturerId = user.GetManufacturerId();
        var errors = new FieldErrors();
        var hasSerial = !string.IsNullOrWhiteSpace(request.SerialNumber);
        var hasCertificate = !string.IsNullOrWhiteSpace(request.CertificatePem);
        if (hasSerial == hasCertificate)
            errors.Add("serialNumber", "Give exactly one of serialNumber and certificatePem.");
        else if (hasSerial)
            errors.RequireText("serialNumber", request.SerialNumber, 128);

        var certificates = new X509Certificate2Collection();
        if (hasCertificate && !hasSerial)
        {
            try
            {
                if (request.CertificatePem!.Length > MaxPemLength)
                    errors.Add("certificatePem", $"At most {MaxPemLength} characters.");
                else
                    certificates.ImportFromPem(request.CertificatePem);
                if (errors.IsValid && certificates.Count == 0)
                    errors.Add("certificatePem", "No CERTIFICATE block found.");
            }
            catch (CryptographicException ex)
            {
                errors.Add("certificatePem", $"Not a PEM certificate: {ex.Message}");
            }
        }

        if (!errors.IsValid)
            return TypedResults.ValidationProblem(errors.Errors);

        // Only this manufacturer's device types and orders: another manufacturer's serial is "unknown" here.
        var decision = hasSerial
            ? await decisions.ForSerialAsync(manufacturerId, request.SerialNumber!.Trim(), cancellationToken)
            : await decisions.ForCertificateAsync(certificates[0], [.. certificates.Skip(1)], manufacturerId, cancellationToken);
        return TypedResults.Ok(View(decision));
    }

    private static RedirectPreview View(RedirectDecision decision)
    {
        var type = decision.DeviceType is { } t ? new PreviewDeviceType(t.Id, t.Name) : null;
        var order = decision.Order is { } o ? new OrderView(o.Id, o.SerialNumber, o.NmsProfileId, o.DeviceTypeId, o.State, o.CreatedAt, o.UpdatedAt) : null;
        if (!decision.Redirects)
        {
            var status = decision.Refusal switch { RedirectRefusal.NotAuthenticated => 401, RedirectRefusal.NoData => 404, _ => 403 };
            return new RedirectPreview("refused", status, decision.Serial, decision.Reason, decision.AppTag, type, order, null, null, null);
        }

        var profile = decision.Profile!;
        var server = RedirectDecisions.RedirectInformation(profile).BootstrapServers[0];
        var handOff = decision.Order!.State is OrderState.HandedOff ? "done" : "pending";
        return new RedirectPreview("redirect", 200, decision.Serial, null, null, type, order,
            new PreviewProfile(profile.Id, profile.CustomerId, profile.CustomerName, profile.SftpHost, profile.SftpPort),
            new PreviewRedirect(server.Address, server.Port ?? 443, server.TrustAnchor is not null, profile.BootstrapUrl), handOff);
    }
}
