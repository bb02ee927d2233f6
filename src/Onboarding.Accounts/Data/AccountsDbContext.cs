using Microsoft.EntityFrameworkCore;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Accounts.Data;

internal sealed class AccountsDbContext(DbContextOptions<AccountsDbContext> options) : DbContext(options)
{
    public const string Schema = "accounts";

    public DbSet<Customer> Customers => Set<Customer>();

    public DbSet<Manufacturer> Manufacturers => Set<Manufacturer>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);

        modelBuilder.Entity<Customer>(customer =>
        {
            customer.ToTable("Customers");
            customer.Property(c => c.Id).ValueGeneratedNever();
            customer.Property(c => c.Name).HasMaxLength(200);
            customer.Property(c => c.ContactEmail).HasMaxLength(320);
            customer.Property(c => c.ApiKeyId).HasMaxLength(16);
            customer.HasIndex(c => c.ApiKeyId).IsUnique();
        });

        modelBuilder.Entity<Manufacturer>(manufacturer =>
        {
            manufacturer.ToTable("Manufacturers");
            manufacturer.Property(m => m.Id).ValueGeneratedNever();
            manufacturer.Property(m => m.Name).HasMaxLength(200);
            manufacturer.Property(m => m.NormalizedName).HasMaxLength(200);
            manufacturer.Property(m => m.ServerDnsName).HasMaxLength(253);
            manufacturer.Property(m => m.SftpUsername).HasMaxLength(64);
            manufacturer.Property(m => m.PassphraseHash).HasMaxLength(256);
            manufacturer.Property(m => m.SerialExtraction).HasConversion<string>().HasMaxLength(32);
            manufacturer.Property(m => m.SftpPublicKey).HasMaxLength(16384);
            manufacturer.Property(m => m.CallHomeStyle).HasConversion<string>().HasMaxLength(16);
            manufacturer.Property(m => m.DisabledReason).HasMaxLength(500);
            manufacturer.HasIndex(m => new { m.CustomerId, m.NormalizedName }).IsUnique();
            manufacturer.HasIndex(m => m.SftpUsername).IsUnique();
            manufacturer.HasOne(m => m.Customer).WithMany(c => c.Manufacturers).HasForeignKey(m => m.CustomerId)
                .OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.UseSnakeCaseNames();
    }
}
