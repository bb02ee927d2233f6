using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Onboarding.Drop.Data;

namespace Onboarding.Drop.Sftp;

/// <summary>
/// What <c>/incoming</c> shows: a manufacturer's own uploads closed within <see cref="DropOptions.RecentUploadVisibility"/>.
/// Clients check an upload after CLOSE (paramiko's default <c>put()</c> STATs it and compares the size), so a file
/// that vanished at once would fail a good upload. Read from the stored uploads, not from the session, so it holds
/// for a check made over a new connection or on another host behind the load balancer.
/// </summary>
internal sealed class RecentUploads(IServiceScopeFactory scopes, IOptions<DropOptions> options, TimeProvider clock)
{
    /// <summary>A listing shows at most this many names, the latest first; a bulk upload must not make one READDIR unbounded.</summary>
    public const int MaxListed = 10_000;

    public async Task<RecentUpload?> FindAsync(Guid manufacturerId, string fileName, CancellationToken cancellationToken)
    {
        if (options.Value.RecentUploadVisibility <= TimeSpan.Zero)
            return null;
        var since = clock.GetUtcNow() - options.Value.RecentUploadVisibility;
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<DropDbContext>().Uploads.AsNoTracking()
            .Where(u => u.ManufacturerId == manufacturerId && u.FileName == fileName && u.ReceivedAt >= since)
            .OrderByDescending(u => u.ReceivedAt)
            .Select(u => new RecentUpload(u.FileName, u.Size, u.ReceivedAt))
            .FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>One entry per name (its latest upload), latest first.</summary>
    public async Task<List<RecentUpload>> ListAsync(Guid manufacturerId, CancellationToken cancellationToken)
    {
        if (options.Value.RecentUploadVisibility <= TimeSpan.Zero)
            return [];
        var since = clock.GetUtcNow() - options.Value.RecentUploadVisibility;
        await using var scope = scopes.CreateAsyncScope();
        var uploads = await scope.ServiceProvider.GetRequiredService<DropDbContext>().Uploads.AsNoTracking()
            .Where(u => u.ManufacturerId == manufacturerId && u.ReceivedAt >= since)
            .OrderByDescending(u => u.ReceivedAt)
            .Take(MaxListed)
            .Select(u => new RecentUpload(u.FileName, u.Size, u.ReceivedAt))
            .ToListAsync(cancellationToken);
        return [.. uploads.DistinctBy(u => u.FileName)];
    }
}

internal sealed record RecentUpload(string FileName, long Size, DateTimeOffset ReceivedAt);
