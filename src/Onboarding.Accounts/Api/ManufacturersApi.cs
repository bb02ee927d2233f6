using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Onboarding.Accounts.Contracts;
using Onboarding.Accounts.Data;
using Onboarding.Accounts.Security;
using Onboarding.HostKeys.Contracts;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;
using Onboarding.ServiceDefaults.Http;

namespace Onboarding.Accounts.Api;

internal static class ManufacturersApi
{
    public static void MapManufacturersApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/manufacturers").WithTags("Manufacturers").RequireAuthorization();

        group.MapPost("/", Register)
            .WithName("RegisterManufacturer")
            .WithSummary("Register a manufacturer; the response carries its SFTP passphrase, shown only once.");
        group.MapGet("/", List)
            .WithName("ListManufacturers")
            .WithSummary("The manufacturers the calling customer has registered.");
        group.MapGet("/{id:guid}", Get)
            .WithName("GetManufacturer")
            .WithSummary("One manufacturer, with its SFTP and call-home connection details (never the passphrase).");
        group.MapPost("/{id:guid}/credentials", RotateCredentials)
            .WithName("RotateManufacturerCredentials")
            .WithSummary("Issue a new SFTP passphrase; the current one stops working at once.");
        group.MapPut("/{id:guid}/ca", SetDeviceTrust)
            .WithName("SetManufacturerCa")
            .WithSummary("Register the manufacturer's factory CA (PEM) that device certificates must chain to, and where the serial is.");
        group.MapPut("/{id:guid}/call-home-style", SetCallHomeStyle)
            .WithName("SetManufacturerCallHomeStyle")
            .WithSummary("Choose the call-home configuration the NMS bootstrap server gives this manufacturer's devices: netconf (default) or junos.");
        group.MapPut("/{id:guid}/sftp-public-key", SetSftpPublicKey)
            .WithName("SetManufacturerSftpPublicKey")
            .WithSummary("Register an SSH public key the manufacturer may log in to the SFTP drop with (replaces any earlier one).");
        group.MapDelete("/{id:guid}/sftp-public-key", (Guid id, ClaimsPrincipal user, [AsParameters] Context context, CancellationToken ct) =>
                SetSftpPublicKeyAsync(id, null, user, context, ct))
            .WithName("RemoveManufacturerSftpPublicKey")
            .WithSummary("Remove the manufacturer's SSH public key; only the passphrase works afterwards.");
        group.MapPut("/{id:guid}/access-policy", SetAccessPolicy)
            .WithName("SetManufacturerAccessPolicy")
            .WithSummary("Whether the manufacturer's SFTP access is disabled automatically once all its devices are onboarded (off by default).");
        group.MapPost("/{id:guid}/disable", (Guid id, ClaimsPrincipal user, [AsParameters] Context context, CancellationToken ct) => SetEnabled(id, false, user, context, ct))
            .WithName("DisableManufacturer")
            .WithSummary("Cut the manufacturer off: its SFTP logins are refused until it is enabled again.");
        group.MapPost("/{id:guid}/enable", (Guid id, ClaimsPrincipal user, [AsParameters] Context context, CancellationToken ct) => SetEnabled(id, true, user, context, ct))
            .WithName("EnableManufacturer")
            .WithSummary("Allow the manufacturer's SFTP logins again.");
    }

    /// <summary>What every handler here needs, bound once by minimal APIs.</summary>
    internal sealed record Context(AccountsDbContext Db, IOptions<NmsEndpointOptions> Endpoint, INmsHostKeys HostKeys, TimeProvider Clock, ILoggerFactory Loggers)
    {
        public ILogger Logger { get; } = Loggers.CreateLogger(typeof(ManufacturersApi).FullName!);

        public ManufacturerView View(Manufacturer m) => new(
            m.Id, m.Name, m.ServerDnsName, m.Enabled, m.CreatedAt, m.CredentialsRotatedAt, m.DisabledAt,
            new SftpConnection(Endpoint.Value.PublicHost, Endpoint.Value.SftpPort, m.SftpUsername, HostKeys.Fingerprints,
                m.SftpPublicKey is null ? null : SshPublicKey.ParseAuthorizedKeysLine(m.SftpPublicKey).Fingerprint),
            new CallHomeConnection(Endpoint.Value.CallHomeHost ?? Endpoint.Value.PublicHost, Endpoint.Value.CallHomePort),
            new DeviceTrust(m.SerialExtraction, DeviceTrustPem.Describe(m.CaCertificatesPem)), m.CallHomeStyle)
        {
            DisabledReason = m.DisabledReason,
            DisableWhenAllDevicesOnboarded = m.DisableWhenAllDevicesOnboarded,
        };
    }

    private static async Task<Results<Created<ManufacturerCredentials>, ValidationProblem, ProblemHttpResult>> Register(
        RegisterManufacturerRequest request, ClaimsPrincipal user, [AsParameters] Context context, CancellationToken cancellationToken)
    {
        var validation = new FieldErrors();
        validation.RequireText("name", request.Name, 200);
        validation.RequireDnsName("serverDnsName", request.ServerDnsName);
        if (!validation.IsValid)
            return TypedResults.ValidationProblem(validation.Errors);

        var customerId = user.GetCustomerId();
        var normalized = Manufacturer.Normalize(request.Name!);
        if (await context.Db.Manufacturers.AnyAsync(m => m.CustomerId == customerId && m.NormalizedName == normalized, cancellationToken))
            return DuplicateName(request.Name!);

        var passphrase = PassphraseHasher.GeneratePassphrase();
        var now = context.Clock.GetUtcNow();
        var manufacturer = new Manufacturer
        {
            Id = Guid.CreateVersion7(),
            CustomerId = customerId,
            Name = request.Name!.Trim(),
            NormalizedName = normalized,
            ServerDnsName = request.ServerDnsName!.TrimEnd('.').ToLowerInvariant(),
            SftpUsername = NewSftpUsername(request.Name!),
            PassphraseHash = PassphraseHasher.Hash(passphrase),
            Enabled = true,
            CreatedAt = now,
            CredentialsRotatedAt = now,
        };
        context.Db.Manufacturers.Add(manufacturer);
        try
        {
            await context.Db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Two registrations of the same name raced; the unique index decided.
            return DuplicateName(request.Name!);
        }

        context.Logger.LogInformation("Customer {CustomerId} registered manufacturer {ManufacturerId} with SFTP user {SftpUsername}",
            customerId, manufacturer.Id, manufacturer.SftpUsername);
        return TypedResults.Created($"/api/manufacturers/{manufacturer.Id}",
            new ManufacturerCredentials(manufacturer.Id, manufacturer.SftpUsername, passphrase, context.View(manufacturer)));
    }

    private static async Task<Ok<List<ManufacturerView>>> List(ClaimsPrincipal user, [AsParameters] Context context, CancellationToken cancellationToken)
    {
        var customerId = user.GetCustomerId();
        var manufacturers = await context.Db.Manufacturers.AsNoTracking()
            .Where(m => m.CustomerId == customerId).OrderBy(m => m.Name).ToListAsync(cancellationToken);
        return TypedResults.Ok(manufacturers.Select(context.View).ToList());
    }

    private static async Task<Results<Ok<ManufacturerView>, ProblemHttpResult>> Get(
        Guid id, ClaimsPrincipal user, [AsParameters] Context context, IManufacturerDeviceCounts counts, CancellationToken cancellationToken)
    {
        var manufacturer = await FindOwnAsync(context.Db, id, user, cancellationToken);
        if (manufacturer is null)
            return NotFound(id);
        var devices = await counts.CountAsync(manufacturer.CustomerId, manufacturer.Id, cancellationToken);
        return TypedResults.Ok(context.View(manufacturer) with { Devices = devices });
    }

    private static async Task<Results<Ok<ManufacturerView>, ValidationProblem, ProblemHttpResult>> SetAccessPolicy(
        Guid id, SetAccessPolicyRequest request, ClaimsPrincipal user, [AsParameters] Context context, CancellationToken cancellationToken)
    {
        if (request.DisableWhenAllDevicesOnboarded is not { } disable)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["disableWhenAllDevicesOnboarded"] = ["Required: true or false."] });
        var manufacturer = await FindOwnAsync(context.Db, id, user, cancellationToken);
        if (manufacturer is null)
            return NotFound(id);

        manufacturer.DisableWhenAllDevicesOnboarded = disable;
        await context.Db.SaveChangesAsync(cancellationToken);
        context.Logger.LogInformation("Manufacturer {ManufacturerId}: disable when all devices are onboarded = {Disable}", manufacturer.Id, disable);
        // Checked again when the next device is onboarded; a manufacturer whose devices are all onboarded already is
        // left as it is, so turning the policy on never cuts an account off by surprise.
        return TypedResults.Ok(context.View(manufacturer));
    }

    private static async Task<Results<Ok<ManufacturerCredentials>, ProblemHttpResult>> RotateCredentials(
        Guid id, ClaimsPrincipal user, [AsParameters] Context context, CancellationToken cancellationToken)
    {
        var manufacturer = await FindOwnAsync(context.Db, id, user, cancellationToken);
        if (manufacturer is null)
            return NotFound(id);

        var passphrase = await RotatePassphraseAsync(manufacturer, context, cancellationToken);
        return TypedResults.Ok(new ManufacturerCredentials(manufacturer.Id, manufacturer.SftpUsername, passphrase, context.View(manufacturer)));
    }

    /// <summary>
    /// The one passphrase rotation behind both answers (these credentials, or the hand-off bundle carrying them): a new
    /// generated passphrase, only its hash stored; the old one stops working at once.
    /// </summary>
    internal static async Task<string> RotatePassphraseAsync(Manufacturer manufacturer, Context context, CancellationToken cancellationToken)
    {
        var passphrase = PassphraseHasher.GeneratePassphrase();
        manufacturer.PassphraseHash = PassphraseHasher.Hash(passphrase);
        manufacturer.CredentialsRotatedAt = context.Clock.GetUtcNow();
        await context.Db.SaveChangesAsync(cancellationToken);
        context.Logger.LogInformation("Manufacturer {ManufacturerId} SFTP passphrase rotated", manufacturer.Id);
        return passphrase;
    }

    private static async Task<Results<Ok<ManufacturerView>, ProblemHttpResult>> SetEnabled(
        Guid id, bool enabled, ClaimsPrincipal user, Context context, CancellationToken cancellationToken)
    {
        var manufacturer = await FindOwnAsync(context.Db, id, user, cancellationToken);
        if (manufacturer is null)
            return NotFound(id);

        if (manufacturer.Enabled != enabled)
        {
            manufacturer.Enabled = enabled;
            manufacturer.DisabledAt = enabled ? null : context.Clock.GetUtcNow();
            manufacturer.DisabledReason = null;
            await context.Db.SaveChangesAsync(cancellationToken);
            context.Logger.LogInformation("Manufacturer {ManufacturerId} {Change}", manufacturer.Id, enabled ? "enabled" : "disabled");
        }

        return TypedResults.Ok(context.View(manufacturer));
    }

    private static async Task<Results<Ok<ManufacturerView>, ValidationProblem, ProblemHttpResult>> SetDeviceTrust(
        Guid id, SetDeviceTrustRequest request, ClaimsPrincipal user, [AsParameters] Context context, CancellationToken cancellationToken)
    {
        var validation = new FieldErrors();
        var pem = DeviceTrustPem.Validate(request.CertificatesPem, validation, "certificatesPem");
        if (!validation.IsValid)
            return TypedResults.ValidationProblem(validation.Errors);

        var manufacturer = await FindOwnAsync(context.Db, id, user, cancellationToken);
        if (manufacturer is null)
            return NotFound(id);

        manufacturer.CaCertificatesPem = pem;
        manufacturer.SerialExtraction = request.SerialExtraction ?? SerialExtraction.SubjectSerialNumber;
        await context.Db.SaveChangesAsync(cancellationToken);
        context.Logger.LogInformation("Manufacturer {ManufacturerId} factory CA set ({Count} certificates, serial from {SerialExtraction})",
            manufacturer.Id, DeviceTrustPem.Describe(pem).Count, manufacturer.SerialExtraction);
        return TypedResults.Ok(context.View(manufacturer));
    }

    private static async Task<Results<Ok<ManufacturerView>, ValidationProblem, ProblemHttpResult>> SetCallHomeStyle(
        Guid id, SetCallHomeStyleRequest request, ClaimsPrincipal user, [AsParameters] Context context, CancellationToken cancellationToken)
    {
        if (CallHomeStyles.Parse(request.CallHomeStyle) is not { } style)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["callHomeStyle"] = ["Required: 'netconf' (an ietf-netconf-server call-home configuration) or 'junos' (outbound-ssh)."],
            });
        }

        var manufacturer = await FindOwnAsync(context.Db, id, user, cancellationToken);
        if (manufacturer is null)
            return NotFound(id);
        manufacturer.CallHomeStyle = style;
        await context.Db.SaveChangesAsync(cancellationToken);
        context.Logger.LogInformation("Manufacturer {ManufacturerId} call-home style set to {CallHomeStyle}", manufacturer.Id, CallHomeStyles.Name(style));
        return TypedResults.Ok(context.View(manufacturer));
    }

    private static async Task<Results<Ok<ManufacturerView>, ValidationProblem, ProblemHttpResult>> SetSftpPublicKey(
        Guid id, SetSftpPublicKeyRequest request, ClaimsPrincipal user, [AsParameters] Context context, CancellationToken cancellationToken)
    {
        string? line = null;
        var error = "Required: an OpenSSH public key line such as 'ssh-ed25519 AAAA… comment'.";
        if (!string.IsNullOrWhiteSpace(request.PublicKey) && request.PublicKey.Length <= 16384)
        {
            try
            {
                var key = SshPublicKey.ParseAuthorizedKeysLine(request.PublicKey.Trim());
                if (key.RsaBits is > 0 and < 2048)
                    error = "RSA keys must have at least 2048 bits.";
                else
                    line = key.ToAuthorizedKeysLine();
            }
            catch (Exception ex) when (ex is SshProtocolException or FormatException or ArgumentException)
            {
                error = $"Not an OpenSSH public key: {ex.Message}";
            }
        }

        if (line is null)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["publicKey"] = [error] });
        return await SetSftpPublicKeyAsync(id, line, user, context, cancellationToken);
    }

    private static async Task<Results<Ok<ManufacturerView>, ValidationProblem, ProblemHttpResult>> SetSftpPublicKeyAsync(
        Guid id, string? line, ClaimsPrincipal user, Context context, CancellationToken cancellationToken)
    {
        var manufacturer = await FindOwnAsync(context.Db, id, user, cancellationToken);
        if (manufacturer is null)
            return NotFound(id);
        manufacturer.SftpPublicKey = line;
        await context.Db.SaveChangesAsync(cancellationToken);
        context.Logger.LogInformation("Manufacturer {ManufacturerId} SFTP public key {Change}", manufacturer.Id, line is null ? "removed" : "set");
        return TypedResults.Ok(context.View(manufacturer));
    }

    /// <summary>Tenant isolation: another customer's manufacturer is simply not found (never 403, which would reveal it exists).</summary>
    private static Task<Manufacturer?> FindOwnAsync(AccountsDbContext db, Guid id, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var customerId = user.GetCustomerId();
        return db.Manufacturers.SingleOrDefaultAsync(m => m.Id == id && m.CustomerId == customerId, cancellationToken);
    }

    internal static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Manufacturer not found", detail: $"You have no manufacturer with id {id}.");

    private static ProblemHttpResult DuplicateName(string name) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Manufacturer already registered",
            detail: $"You already registered a manufacturer named '{name.Trim()}'.");

    /// <summary>"m-" + up to 20 characters of the name + "-" + 40 random bits: readable in logs, unique across customers.</summary>
    private static string NewSftpUsername(string name)
    {
        var slug = new StringBuilder();
        foreach (var c in name.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c))
                slug.Append(c);
            else if (slug.Length > 0 && slug[^1] != '-')
                slug.Append('-');
            if (slug.Length == 20)
                break;
        }

        const string alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
        var suffix = string.Create(8, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
                span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        });
        return $"m-{slug.ToString().Trim('-')}-{suffix}".Replace("--", "-", StringComparison.Ordinal);
    }

}
