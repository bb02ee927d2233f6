using Microsoft.EntityFrameworkCore;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Drop.Data;

internal sealed class DropDbContext(DbContextOptions<DropDbContext> options) : DbContext(options)
{
    public DbSet<Upload> Uploads => Set<Upload>();

    public DbSet<ManufacturerUsage> Usage => Set<ManufacturerUsage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema("drop");
        modelBuilder.Entity<Upload>(upload =>
        {
            upload.ToTable("Uploads");
            upload.Property(u => u.Id).ValueGeneratedNever();
            upload.Property(u => u.FileName).HasMaxLength(128);
            upload.Property(u => u.Sha256).HasMaxLength(64);
            upload.Property(u => u.Outcome).HasConversion<string>().HasMaxLength(16);
            upload.HasIndex(u => new { u.ManufacturerId, u.ReceivedAt });
        });
        modelBuilder.Entity<ManufacturerUsage>(usage =>
        {
            usage.ToTable("ManufacturerUsage");
            usage.HasKey(u => u.ManufacturerId);
            usage.Property(u => u.ManufacturerId).ValueGeneratedNever();
        });
        modelBuilder.UseSnakeCaseNames();
    }
}
