using Microsoft.EntityFrameworkCore;
using Onboarding.Inventory.Contracts;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Telemetry.Data;

internal sealed class TelemetryDbContext(DbContextOptions<TelemetryDbContext> options) : DbContext(options)
{
    public DbSet<TelemetryDevice> Devices => Set<TelemetryDevice>();

    public DbSet<CredentialIssuance> CredentialIssuances => Set<CredentialIssuance>();

    public DbSet<Reading> Readings => Set<Reading>();

    public DbSet<DeadLetter> DeadLetters => Set<DeadLetter>();

    public DbSet<TelemetryCustomerSettings> CustomerSettings => Set<TelemetryCustomerSettings>();

    public DbSet<IngesterSubscription> IngesterSubscriptions => Set<IngesterSubscription>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        configurationBuilder.Properties<DeviceId>().HaveConversion<DeviceIdConverter>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema("telemetry");

        modelBuilder.Entity<TelemetryDevice>(device =>
        {
            device.ToTable("Devices");
            device.HasKey(d => d.DeviceId);
            device.Property(d => d.DeviceId).ValueGeneratedNever();
            device.Property(d => d.SerialNumber).HasMaxLength(64);
            // The ingester maps a topic's serial to the device with this index (migration 0005).
            device.HasIndex(d => d.SerialNumber).IsUnique();
            device.Property(d => d.DeviceFunction).HasMaxLength(100);
            device.HasIndex(d => d.DeviceName).IsUnique();
            device.HasIndex(d => d.CustomerId);
        });

        modelBuilder.Entity<CredentialIssuance>(issuance =>
        {
            issuance.ToTable("CredentialIssuances");
            issuance.Property(i => i.Id).UseIdentityByDefaultColumn();
            issuance.Property(i => i.SerialNumber).HasMaxLength(64);
            issuance.Property(i => i.CertificateSerial).HasMaxLength(64);
            issuance.Property(i => i.CertificateSha256).HasMaxLength(64);
            issuance.HasIndex(i => i.DeviceId);
            issuance.HasIndex(i => i.CreatedAt);
        });

        modelBuilder.Entity<Reading>(reading =>
        {
            reading.ToTable("Readings");
            reading.HasKey(r => new { r.DeviceName, r.SignalDate });
            // Only the primary key (device_name, signal_date): every query reaches readings through a device, and
            // each further index would be written for every row the ingester copies (migrations 0003 and 0004).
        });

        modelBuilder.Entity<DeadLetter>(deadLetter =>
        {
            deadLetter.ToTable("DeadLetters");
            deadLetter.Property(d => d.Id).UseIdentityByDefaultColumn();
            deadLetter.Property(d => d.Topic).HasMaxLength(300);
            deadLetter.Property(d => d.Reason).HasMaxLength(500);
            deadLetter.HasIndex(d => d.ReceivedAt);
        });

        modelBuilder.Entity<TelemetryCustomerSettings>(settings =>
        {
            settings.ToTable("CustomerSettings");
            settings.HasKey(s => s.CustomerId);
            settings.Property(s => s.CustomerId).ValueGeneratedNever();
        });

        modelBuilder.Entity<IngesterSubscription>(subscription =>
        {
            subscription.ToTable("IngesterSubscriptions");
            subscription.HasKey(s => new { s.ClientId, s.Filter });
        });

        modelBuilder.UseSnakeCaseNames();
    }
}
