using Microsoft.EntityFrameworkCore;
using Onboarding.Inventory.Contracts;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Inventory.Data;

internal sealed class InventoryDbContext(DbContextOptions<InventoryDbContext> options) : DbContext(options)
{
    public DbSet<Device> Devices => Set<Device>();

    public DbSet<DeviceEvent> DeviceEvents => Set<DeviceEvent>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        configurationBuilder.Properties<DeviceId>().HaveConversion<DeviceIdConverter>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema("inventory");

        modelBuilder.Entity<Device>(device =>
        {
            device.ToTable("Devices");
            device.Property(d => d.Id).ValueGeneratedNever();
            device.Property(d => d.SerialNumber).HasMaxLength(64);
            device.Property(d => d.Model).HasMaxLength(100);
            device.Property(d => d.HardwareModel).HasMaxLength(100);
            device.Property(d => d.OsVersion).HasMaxLength(100);
            device.Property(d => d.MacAddress).HasMaxLength(17);
            device.Property(d => d.OrderId).HasMaxLength(100);
            device.Property(d => d.CertificateSha256).HasMaxLength(64);
            device.Property(d => d.CertificateSubject).HasMaxLength(1024);
            device.Property(d => d.PublicKeySha256).HasMaxLength(64);
            device.Property(d => d.State).HasConversion<string>().HasMaxLength(32);
            device.HasIndex(d => d.PublicKeySha256);
            device.HasIndex(d => new { d.CustomerId, d.SerialNumber }).IsUnique();
            device.HasIndex(d => new { d.CustomerId, d.State });
            device.HasIndex(d => new { d.CustomerId, d.ManufacturerId });
            device.HasMany(d => d.Events).WithOne().HasForeignKey(e => e.DeviceId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DeviceEvent>(deviceEvent =>
        {
            deviceEvent.ToTable("DeviceEvents");
            deviceEvent.Property(e => e.Id).UseIdentityByDefaultColumn();
            deviceEvent.Property(e => e.State).HasConversion<string>().HasMaxLength(32);
            deviceEvent.Property(e => e.Source).HasMaxLength(200);
            deviceEvent.HasIndex(e => new { e.DeviceId, e.At });
        });

        modelBuilder.UseSnakeCaseNames();
    }
}
