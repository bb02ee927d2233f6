using Microsoft.EntityFrameworkCore;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Provisioning.Data;

internal sealed class ProvisioningDbContext(DbContextOptions<ProvisioningDbContext> options) : DbContext(options)
{
    public const string Schema = "provisioning";

    public DbSet<PreconfigurationTemplate> Templates => Set<PreconfigurationTemplate>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<PreconfigurationTemplate>(template =>
        {
            template.ToTable("Templates");
            template.HasKey(t => new { t.CustomerId, t.DeviceType });
            template.Property(t => t.DeviceType).HasMaxLength(PreconfigurationLimits.MaxDeviceTypeLength);
            template.Property(t => t.Kind).HasMaxLength(16);
        });
        modelBuilder.UseSnakeCaseNames();
    }
}

internal static class PreconfigurationLimits
{
    public const int MaxDeviceTypeLength = 200;

    /// <summary>Templates are configuration snippets, not images: 256 KiB of text is plenty.</summary>
    public const int MaxBodyLength = 256 * 1024;
}
