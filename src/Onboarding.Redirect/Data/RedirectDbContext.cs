using Microsoft.EntityFrameworkCore;
using Onboarding.Redirect.Orders;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Redirect.Data;

internal sealed class RedirectDbContext(DbContextOptions<RedirectDbContext> options) : DbContext(options)
{
    public const string Schema = "redirect";

    public DbSet<RedirectManufacturer> Manufacturers => Set<RedirectManufacturer>();

    public DbSet<DeviceType> DeviceTypes => Set<DeviceType>();

    public DbSet<NmsProfile> NmsProfiles => Set<NmsProfile>();

    public DbSet<NmsHostKey> NmsHostKeys => Set<NmsHostKey>();

    public DbSet<Order> Orders => Set<Order>();

    public DbSet<OrderEvent> OrderEvents => Set<OrderEvent>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);

        modelBuilder.Entity<RedirectManufacturer>(manufacturer =>
        {
            manufacturer.ToTable("Manufacturers");
            manufacturer.Property(m => m.Id).ValueGeneratedNever();
            manufacturer.Property(m => m.Name).HasMaxLength(200);
            manufacturer.Property(m => m.ContactEmail).HasMaxLength(320);
            manufacturer.Property(m => m.ApiKeyId).HasMaxLength(16);
            manufacturer.HasIndex(m => m.ApiKeyId).IsUnique();
        });

        modelBuilder.Entity<DeviceType>(type =>
        {
            type.ToTable("DeviceTypes");
            type.Property(t => t.Id).ValueGeneratedNever();
            type.Property(t => t.Name).HasMaxLength(200);
            type.Property(t => t.SerialSource).HasConversion<string>().HasMaxLength(32);
            type.Property(t => t.SerialPattern).HasMaxLength(512);
            type.HasIndex(t => new { t.ManufacturerId, t.Name }).IsUnique();
            type.HasOne<RedirectManufacturer>().WithMany().HasForeignKey(t => t.ManufacturerId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<NmsProfile>(profile =>
        {
            profile.ToTable("NmsProfiles");
            profile.Property(p => p.Id).ValueGeneratedNever();
            profile.Property(p => p.CustomerName).HasMaxLength(200);
            profile.Property(p => p.SftpHost).HasMaxLength(253);
            profile.Property(p => p.SftpUsername).HasMaxLength(64);
            profile.Property(p => p.CredentialMode).HasConversion<string>().HasMaxLength(16);
            profile.Property(p => p.ClientPublicKey).HasMaxLength(512);
            profile.Property(p => p.BootstrapUrl).HasMaxLength(2048);
            profile.Property(p => p.CallHomeHost).HasMaxLength(253);
            profile.HasIndex(p => p.ManufacturerId);
            profile.HasOne<RedirectManufacturer>().WithMany().HasForeignKey(p => p.ManufacturerId).OnDelete(DeleteBehavior.Cascade);
            profile.HasMany(p => p.HostKeys).WithOne().HasForeignKey(k => k.NmsProfileId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<NmsHostKey>(key =>
        {
            key.ToTable("NmsHostKeys");
            key.HasKey(k => new { k.NmsProfileId, k.Fingerprint });
            key.Property(k => k.Fingerprint).HasMaxLength(128);
            key.Property(k => k.Algorithm).HasMaxLength(64);
            key.Property(k => k.PublicKey).HasMaxLength(16384);
        });

        modelBuilder.Entity<Order>(order =>
        {
            order.ToTable("Orders");
            order.Property(o => o.Id).ValueGeneratedNever();
            order.Property(o => o.SerialNumber).HasMaxLength(128);
            order.Property(o => o.State).HasConversion<string>().HasMaxLength(16);
            // One live order per serial and manufacturer; a cancelled order does not block ordering the serial again.
            order.HasIndex(o => new { o.ManufacturerId, o.SerialNumber }).IsUnique().HasFilter("state <> 'Cancelled'");
            order.HasIndex(o => new { o.ManufacturerId, o.State });
            order.HasIndex(o => o.NmsProfileId);
            order.HasIndex(o => o.DeviceTypeId);
            order.HasOne<RedirectManufacturer>().WithMany().HasForeignKey(o => o.ManufacturerId).OnDelete(DeleteBehavior.Cascade);
            order.HasOne<NmsProfile>().WithMany().HasForeignKey(o => o.NmsProfileId).OnDelete(DeleteBehavior.Restrict);
            order.HasOne<DeviceType>().WithMany().HasForeignKey(o => o.DeviceTypeId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<OrderEvent>(orderEvent =>
        {
            orderEvent.ToTable("OrderEvents");
            orderEvent.Property(e => e.State).HasConversion<string>().HasMaxLength(16);
            orderEvent.Property(e => e.Detail).HasMaxLength(500);
            orderEvent.HasIndex(e => e.OrderId);
            orderEvent.HasOne<Order>().WithMany().HasForeignKey(e => e.OrderId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.UseSnakeCaseNames();
    }
}
