using Microsoft.EntityFrameworkCore;

namespace Onboarding.Provisioning.Data;

/// <summary>A customer's templates; every query is scoped to one customer (tenant isolation).</summary>
internal sealed class TemplateStore(ProvisioningDbContext db, TimeProvider time)
{
    public Task<PreconfigurationTemplate?> GetAsync(Guid customerId, string deviceType, CancellationToken cancellationToken) =>
        db.Templates.AsNoTracking().SingleOrDefaultAsync(t => t.CustomerId == customerId && t.DeviceType == deviceType, cancellationToken);

    public async Task<IReadOnlyList<PreconfigurationTemplate>> ListAsync(Guid customerId, CancellationToken cancellationToken) =>
        await db.Templates.AsNoTracking().Where(t => t.CustomerId == customerId).OrderBy(t => t.DeviceType).ToListAsync(cancellationToken);

    /// <summary>The device's model's template, else the customer's <c>*</c> template, else null.</summary>
    public async Task<PreconfigurationTemplate?> FindForDeviceAsync(Guid customerId, string model, CancellationToken cancellationToken)
    {
        var found = await db.Templates.AsNoTracking()
            .Where(t => t.CustomerId == customerId && (t.DeviceType == model || t.DeviceType == PreconfigurationTemplate.AnyDeviceType))
            .ToListAsync(cancellationToken);
        return found.FirstOrDefault(t => t.DeviceType == model) ?? found.FirstOrDefault();
    }

    /// <summary>Creates or replaces in one statement, so two concurrent PUTs cannot both insert; true when it was created.</summary>
    public async Task<bool> PutAsync(Guid customerId, string deviceType, string kind, string body, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // xmax = 0 only on a freshly inserted row version: PostgreSQL's usual "was it an insert" test for ON CONFLICT.
        // ToListAsync, not SingleAsync: EF would wrap a composed query in a subquery, where INSERT cannot stand.
        var created = await db.Database.SqlQuery<bool>($"""
            INSERT INTO provisioning.templates (customer_id, device_type, kind, body, created_at, updated_at)
            VALUES ({customerId}, {deviceType}, {kind}, {body}, {now}, {now})
            ON CONFLICT (customer_id, device_type) DO UPDATE SET kind = excluded.kind, body = excluded.body, updated_at = excluded.updated_at
            RETURNING (xmax = 0) AS "Value"
            """).ToListAsync(cancellationToken);
        return created.Single();
    }

    public async Task<bool> DeleteAsync(Guid customerId, string deviceType, CancellationToken cancellationToken) =>
        await db.Templates.Where(t => t.CustomerId == customerId && t.DeviceType == deviceType).ExecuteDeleteAsync(cancellationToken) > 0;
}
