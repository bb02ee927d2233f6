using Microsoft.EntityFrameworkCore;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.CallHome.Data;

/// <summary>
/// The <c>call_home</c> schema: the cross-host session registry. The hot statements (registration, the heartbeat's
/// batched flush) are hand-written SQL in <see cref="Sessions.CallHomeRegistry"/>; this model documents the tables and
/// lets the schema test check the migration against it.
/// </summary>
internal sealed class CallHomeDbContext(DbContextOptions<CallHomeDbContext> options) : DbContext(options)
{
    public DbSet<CallHomeHostRow> Hosts => Set<CallHomeHostRow>();

    public DbSet<CallHomeSessionRow> Sessions => Set<CallHomeSessionRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema("call_home");
        modelBuilder.Entity<CallHomeHostRow>(host =>
        {
            host.ToTable("Hosts");
            host.HasKey(h => h.HostId);
            host.Property(h => h.HostId).ValueGeneratedNever();
            host.Property(h => h.ApiUrl).HasMaxLength(512);
        });
        modelBuilder.Entity<CallHomeSessionRow>(session =>
        {
            session.ToTable("Sessions");
            session.HasKey(s => s.DeviceId);
            session.Property(s => s.DeviceId).ValueGeneratedNever();
            session.Property(s => s.Serial).HasMaxLength(64);
            session.Property(s => s.ConnectionId).HasMaxLength(32);
            session.Property(s => s.RemoteEndpoint).HasMaxLength(64);
            session.HasOne<CallHomeHostRow>().WithMany().HasForeignKey(s => s.HostId).OnDelete(DeleteBehavior.Cascade);
            session.HasIndex(s => new { s.CustomerId, s.Since });
            session.HasIndex(s => s.HostId);
        });
        modelBuilder.UseSnakeCaseNames();
    }
}

/// <summary>One NMS host process that may hold call-home sessions.</summary>
/// <param name="ApiUrl">How the other hosts reach this host's HTTP API (<c>Nms:CallHome:InternalApiUrl</c>); null when not configured.</param>
internal sealed record CallHomeHostRow(Guid HostId, string? ApiUrl, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt);

/// <summary>A device's live call-home session, and the host holding it.</summary>
internal sealed record CallHomeSessionRow(Guid DeviceId, Guid CustomerId, string Serial, Guid HostId, string ConnectionId, string? RemoteEndpoint,
    DateTimeOffset Since, DateTimeOffset LastSeen);
