using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Onboarding.Redirect.Data;
using Onboarding.Redirect.Orders;
using Onboarding.Redirect.Profiles;
using Onboarding.Redirect.Security;
using Onboarding.Redirect.Signing;
using Onboarding.ServiceDefaults.Http;
using Onboarding.Ssh.Keys;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Redirect.Api;

/// <summary>NMS profiles: hand-off bundles (docs/handoff-bundle.md) imported by the manufacturer.</summary>
internal static class NmsProfilesApi
{
    public static void MapNmsProfilesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/redirect/nms-profiles").WithTags("Redirect: NMS profiles")
            .RequireAuthorization(ManufacturerClaims.Policy)
            .WithMetadata(new SecuritySchemeMetadata(ManufacturerClaims.OpenApiScheme));

        group.MapPost("/", Import)
            .WithName("ImportNmsProfile")
            .WithSummary("Import a customer's hand-off bundle (docs/handoff-bundle.md, version 1) as an NMS profile. "
                + "With credential mode public-key, the response carries the client public key to register at the NMS.");
        group.MapGet("/", List)
            .WithName("ListNmsProfiles")
            .WithSummary("The calling manufacturer's NMS profiles (never a passphrase or private key).");
        group.MapGet("/{id:guid}", Get)
            .WithName("GetNmsProfile")
            .WithSummary("One NMS profile (never its passphrase or private key).");
        group.MapDelete("/{id:guid}", Delete)
            .WithName("DeleteNmsProfile")
            .WithSummary("Delete an NMS profile and its cancelled orders; refused (409) while live orders point at it.");
    }

    private static async Task<Results<Created<NmsProfileView>, ValidationProblem>> Import(
        ImportedBundle bundle, ClaimsPrincipal user, RedirectDbContext db, ProfileSecrets secrets, TimeProvider clock, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var errors = HandoffBundleValidation.Validate(bundle);
        // Signed mode (RFC 8572 §5.4): the owner certificate must have signed the redirect-information, or every device
        // that asks for signed data would reject the answer.
        OwnerArtifacts.Validate(bundle.OwnerCertificate, bundle.SignedRedirectInformation, clock.GetUtcNow(), errors);
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var sftp = bundle.Sftp!;
        var mode = HandoffBundleValidation.ParseMode(sftp.Credential!.Mode)!.Value;
        var profile = new NmsProfile
        {
            Id = Guid.CreateVersion7(),
            ManufacturerId = user.GetManufacturerId(),
            CustomerId = Guid.Parse(bundle.Nms!.CustomerId!),
            CustomerName = bundle.Nms.CustomerName?.Trim(),
            NmsManufacturerId = bundle.Nms.ManufacturerId is { } nmsManufacturerId ? Guid.Parse(nmsManufacturerId) : null,
            SftpHost = sftp.Host!.Trim(),
            SftpPort = sftp.Port!.Value,
            SftpUsername = sftp.Username!.Trim(),
            CredentialMode = mode,
            BootstrapUrl = bundle.BootstrapServer!.Url!,
            BootstrapTrustAnchor = bundle.BootstrapServer.TrustAnchor,
            CallHomeHost = bundle.CallHome?.Host,
            CallHomePort = bundle.CallHome?.Port,
            OwnerCertificate = bundle.OwnerCertificate,
            SignedRedirectInformation = bundle.SignedRedirectInformation,
            IssuedAt = bundle.IssuedAt is { } issued ? issued.ToPostgresPrecision() : null,
            CreatedAt = clock.GetUtcNow().ToPostgresPrecision(),
        };

        // A passphrase in a public-key bundle is not stored: the profile logs in with its own key only.
        if (mode == CredentialMode.Passphrase)
        {
            profile.ProtectedPassphrase = secrets.ProtectPassphrase(sftp.Credential.Passphrase!);
        }
        else
        {
            // Encrypted in the database rather than a key-store file: the key lives and dies with its profile row (one
            // transaction), every host behind the load balancer reads it, and the Data Protection keys that decrypt it
            // are in the key store, so a database dump alone holds no usable private key.
            using var clientKey = SshHostKey.GenerateEd25519();
            profile.ProtectedClientKey = secrets.ProtectClientKey(clientKey.ToOpenSshPrivateKey($"redirect-{profile.Id}"));
            profile.ClientPublicKey = clientKey.PublicKey.ToAuthorizedKeysLine($"redirect-{profile.Id}");
        }

        foreach (var key in sftp.HostKeys!.Where(k => !string.IsNullOrWhiteSpace(k?.Fingerprint)))
            profile.HostKeys.Add(new NmsHostKey { Fingerprint = key.Fingerprint!, Algorithm = key.Algorithm, PublicKey = key.PublicKey });

        db.NmsProfiles.Add(profile);
        await db.SaveChangesAsync(cancellationToken);
        loggers.CreateLogger(typeof(NmsProfilesApi)).LogInformation("Redirect manufacturer {ManufacturerId} imported NMS profile {ProfileId} ({Mode})",
            profile.ManufacturerId, profile.Id, mode);
        return TypedResults.Created($"/api/redirect/nms-profiles/{profile.Id}", View(profile));
    }

    private static async Task<Ok<List<NmsProfileView>>> List(ClaimsPrincipal user, RedirectDbContext db, CancellationToken cancellationToken)
    {
        var manufacturerId = user.GetManufacturerId();
        var profiles = await db.NmsProfiles.AsNoTracking().Include(p => p.HostKeys)
            .Where(p => p.ManufacturerId == manufacturerId).OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(profiles.Select(View).ToList());
    }

    private static async Task<Results<Ok<NmsProfileView>, NotFound>> Get(Guid id, ClaimsPrincipal user, RedirectDbContext db, CancellationToken cancellationToken)
    {
        var manufacturerId = user.GetManufacturerId();
        var profile = await db.NmsProfiles.AsNoTracking().Include(p => p.HostKeys)
            .SingleOrDefaultAsync(p => p.Id == id && p.ManufacturerId == manufacturerId, cancellationToken);
        return profile is null ? TypedResults.NotFound() : TypedResults.Ok(View(profile));
    }

    private static async Task<Results<NoContent, NotFound, ProblemHttpResult>> Delete(Guid id, ClaimsPrincipal user, RedirectDbContext db, CancellationToken cancellationToken)
    {
        var manufacturerId = user.GetManufacturerId();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var profile = await db.NmsProfiles.SingleOrDefaultAsync(p => p.Id == id && p.ManufacturerId == manufacturerId, cancellationToken);
        if (profile is null)
            return TypedResults.NotFound();
        var live = await db.Orders.CountAsync(o => o.NmsProfileId == id && o.State != OrderState.Cancelled, cancellationToken);
        if (live > 0)
            return DeviceTypesApi.Conflict($"{live} live orders point at this NMS profile; move them to another profile or cancel them first.");

        await db.Orders.Where(o => o.NmsProfileId == id).ExecuteDeleteAsync(cancellationToken);
        db.NmsProfiles.Remove(profile);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static NmsProfileView View(NmsProfile p) => new(
        p.Id, p.CustomerId, p.CustomerName, p.NmsManufacturerId,
        new NmsSftpView(p.SftpHost, p.SftpPort, p.SftpUsername, HandoffBundleValidation.ModeName(p.CredentialMode), p.ProtectedPassphrase is not null,
            p.ClientPublicKey, [.. p.HostKeys.OrderBy(k => k.Fingerprint, StringComparer.Ordinal).Select(k => new HostKeyView(k.Fingerprint, k.Algorithm, k.PublicKey))]),
        p.BootstrapUrl, p.BootstrapTrustAnchor is not null, p.CallHomeHost, p.CallHomePort,
        p.OwnerCertificate is not null, p.SignedRedirectInformation is not null, p.IssuedAt, p.CreatedAt);
}
