using Microsoft.EntityFrameworkCore;
using Onboarding.Inventory.Contracts;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.NmsBootstrap.Data;

internal sealed class NmsBootstrapDbContext(DbContextOptions<NmsBootstrapDbContext> options) : DbContext(options)
{
    public const string Schema = "nms_bootstrap";

    public DbSet<DeviceHostKey> DeviceHostKeys => Set<DeviceHostKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<DeviceHostKey>(key =>
        {
            key.ToTable("DeviceHostKeys");
            key.HasKey(k => new { k.DeviceId, k.Fingerprint });
            key.Property(k => k.DeviceId).HasConversion<DeviceIdConverter>();
            key.Property(k => k.Fingerprint).HasMaxLength(64);
            key.Property(k => k.Algorithm).HasMaxLength(64);
            key.HasIndex(k => k.Fingerprint);
        });
        modelBuilder.UseSnakeCaseNames();
    }
}

/// <summary>One SSH host key a device reported in bootstrap-complete (RFC 8572 §7.3), pinned for call home.</summary>
internal sealed class DeviceHostKey
{
    public DeviceId DeviceId { get; set; }

    /// <summary>OpenSSH's <c>SHA256:</c> + unpadded base64 of the SHA-256 of <see cref="KeyData"/>.</summary>
    public required string Fingerprint { get; set; }

    public required string Algorithm { get; set; }

    /// <summary>The public key blob (RFC 4253 §6.6).</summary>
    public required byte[] KeyData { get; set; }

    public DateTimeOffset PinnedAt { get; set; }
}
