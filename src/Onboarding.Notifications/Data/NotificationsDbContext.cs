using Microsoft.EntityFrameworkCore;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Notifications.Data;

internal sealed class NotificationsDbContext(DbContextOptions<NotificationsDbContext> options) : DbContext(options)
{
    public DbSet<Webhook> Webhooks => Set<Webhook>();

    public DbSet<Delivery> Deliveries => Set<Delivery>();

    public DbSet<DeliveryAttempt> DeliveryAttempts => Set<DeliveryAttempt>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema("notifications");
        modelBuilder.Entity<Webhook>(webhook =>
        {
            webhook.ToTable("Webhooks");
            webhook.HasKey(w => w.CustomerId);
            webhook.Property(w => w.CustomerId).ValueGeneratedNever();
            webhook.Property(w => w.Url).HasMaxLength(2048);
        });
        modelBuilder.Entity<Delivery>(delivery =>
        {
            delivery.ToTable("Deliveries");
            delivery.Property(d => d.Id).ValueGeneratedNever();
            delivery.Property(d => d.Channel).HasConversion<string>().HasMaxLength(16);
            delivery.Property(d => d.Event).HasMaxLength(64);
            delivery.Property(d => d.SerialNumber).HasMaxLength(200);
            delivery.Property(d => d.Target).HasMaxLength(2048);
            delivery.Property(d => d.Status).HasConversion<string>().HasMaxLength(16);
            delivery.HasIndex(d => new { d.SourceMessageId, d.Channel }).IsUnique();
            delivery.HasIndex(d => new { d.CustomerId, d.CreatedAt });
            delivery.HasMany(d => d.AttemptLog).WithOne().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<DeliveryAttempt>(attempt =>
        {
            attempt.ToTable("DeliveryAttempts");
            attempt.Property(a => a.Id).UseIdentityByDefaultColumn();
            attempt.HasIndex(a => a.DeliveryId);
        });
        modelBuilder.UseSnakeCaseNames();
    }
}
