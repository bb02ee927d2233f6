using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Onboarding.Accounts.Contracts;
using Onboarding.Accounts.Data;
using Onboarding.Accounts.Security;

namespace Onboarding.Accounts.Api;

/// <summary>The customer → manufacturer hand-off (DESIGN.md, "The hand-off bundle"; docs/handoff-bundle.md).</summary>
internal static class HandoffApi
{
    public const string PassphraseMode = "passphrase";
    public const string PublicKeyMode = "public-key";

    public static void MapHandoffApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/manufacturers").WithTags("Manufacturers").RequireAuthorization();

        // ProblemHttpResult carries no status of its own for OpenAPI, so the 404 is declared.
        group.MapGet("/{id:guid}/handoff", Get)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetManufacturerHandoff")
            .WithSummary("The hand-off bundle (version 1) to give this manufacturer: SFTP account and host keys, NMS bootstrap server and "
                + "trust anchor, call-home address, owner certificate and the NMS-signed redirect-information. Never the passphrase.");
        group.MapPost("/{id:guid}/sftp-passphrase", RotatePassphrase)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("RotateManufacturerSftpPassphrase")
            .WithSummary("Issue a new SFTP passphrase (the current one stops working at once) and return the hand-off bundle carrying it, "
                + "shown only in this response.");
    }

    private static async Task<Results<Ok<HandoffBundleV1>, ProblemHttpResult>> Get(
        Guid id, ClaimsPrincipal user, [AsParameters] ManufacturersApi.Context context, INmsBootstrapIdentity identity, CancellationToken cancellationToken)
    {
        var manufacturer = await FindOwnAsync(context.Db, id, user, cancellationToken);
        return manufacturer is null ? ManufacturersApi.NotFound(id) : TypedResults.Ok(Bundle(manufacturer, null, context, identity));
    }

    private static async Task<Results<Ok<HandoffBundleV1>, ProblemHttpResult>> RotatePassphrase(
        Guid id, ClaimsPrincipal user, [AsParameters] ManufacturersApi.Context context, INmsBootstrapIdentity identity, CancellationToken cancellationToken)
    {
        var manufacturer = await FindOwnAsync(context.Db, id, user, cancellationToken);
        if (manufacturer is null)
            return ManufacturersApi.NotFound(id);

        var passphrase = await ManufacturersApi.RotatePassphraseAsync(manufacturer, context, cancellationToken);
        return TypedResults.Ok(Bundle(manufacturer, passphrase, context, identity));
    }

    private static HandoffBundleV1 Bundle(Manufacturer m, string? passphrase, ManufacturersApi.Context context, INmsBootstrapIdentity identity)
    {
        var endpoint = context.Endpoint.Value;
        // With a registered key the manufacturer should log in with it; the passphrase still works (the drop accepts
        // either), so a freshly rotated one is still handed over in the response that created it.
        var mode = m.SftpPublicKey is null ? PassphraseMode : PublicKeyMode;
        var credential = new HandoffCredential(mode, passphrase, passphrase is null
            ? $"PUT /api/manufacturers/{m.Id}/sftp-public-key with {{\"publicKey\":\"ssh-ed25519 AAAA…\"}} (ask the customer to do it)"
            : null);
        return new HandoffBundleV1(
            Version: 1,
            IssuedAt: context.Clock.GetUtcNow(),
            new HandoffNms(m.CustomerId, m.Customer!.Name, m.Id),
            new HandoffSftp(endpoint.PublicHost, endpoint.SftpPort, m.SftpUsername, credential, context.HostKeys.Fingerprints),
            new HandoffBootstrapServer(identity.BootstrapUrl.GetLeftPart(UriPartial.Authority), Convert.ToBase64String(identity.TrustAnchorCms)),
            new CallHomeConnection(endpoint.CallHomeHost ?? endpoint.PublicHost, endpoint.CallHomePort),
            Convert.ToBase64String(identity.OwnerCertificateCms),
            Convert.ToBase64String(identity.SignedRedirectInformation));
    }

    /// <summary>Tenant isolation as everywhere: another customer's manufacturer is simply not found.</summary>
    private static Task<Manufacturer?> FindOwnAsync(AccountsDbContext db, Guid id, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var customerId = user.GetCustomerId();
        return db.Manufacturers.Include(m => m.Customer).SingleOrDefaultAsync(m => m.Id == id && m.CustomerId == customerId, cancellationToken);
    }
}
