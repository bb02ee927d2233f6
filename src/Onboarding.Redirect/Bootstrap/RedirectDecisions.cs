using System.Security.Cryptography.X509Certificates;
using Microsoft.EntityFrameworkCore;
using Onboarding.Redirect.Data;
using Onboarding.Redirect.Orders;
using Onboarding.Redirect.Serials;
using Onboarding.Sztp;

namespace Onboarding.Redirect.Bootstrap;

/// <summary>Why a device gets no redirect: the RFC 8572 status it is answered with.</summary>
internal enum RedirectRefusal
{
    /// <summary>401: the certificate does not chain to a known factory CA, or carries no serial.</summary>
    NotAuthenticated,

    /// <summary>404: no order for the serial.</summary>
    NoData,

    /// <summary>403: the order is cancelled or bound to another device type.</summary>
    Forbidden,
}

/// <summary>
/// What the redirect server decides for a device, without side effects: shared by the device-facing answers and the
/// operators' "what will this device get?" preview. Either an order to redirect (with its profile), or a refusal.
/// </summary>
internal sealed record RedirectDecision(
    string? Serial,
    FactoryDeviceType? DeviceType,
    Order? Order,
    NmsProfile? Profile,
    RedirectRefusal? Refusal = null,
    string? Reason = null,
    string? AppTag = null)
{
    public bool Redirects => Refusal is null;

    public static RedirectDecision Refuse(RedirectRefusal refusal, string reason, string appTag, string? serial = null,
        FactoryDeviceType? type = null, Order? order = null) =>
        new(serial, type, order, null, refusal, reason, appTag);
}

/// <summary>Authenticates an IDevID against the device types' factory CAs and finds the order it was sold under.</summary>
internal sealed class RedirectDecisions(RedirectDbContext db, FactoryTrust trust)
{
    /// <summary>
    /// The decision for a device presenting <paramref name="certificate"/>; <paramref name="manufacturerId"/> limits it to
    /// one manufacturer's device types (the preview), null considers every manufacturer on this server (devices).
    /// </summary>
    public async Task<RedirectDecision> ForCertificateAsync(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> intermediates,
        Guid? manufacturerId, CancellationToken cancellationToken)
    {
        var types = await trust.MatchAsync(db, certificate, intermediates, manufacturerId, cancellationToken);
        if (types.Count == 0)
            return RedirectDecision.Refuse(RedirectRefusal.NotAuthenticated,
                "The client certificate does not chain to a factory CA registered at this redirect server, or it is not valid now.",
                "untrusted-certificate");

        // A certificate may chain to several device types (one CA for several product lines): the best outcome wins.
        RedirectDecision? best = null;
        foreach (var type in types)
        {
            var extraction = SerialExtractor.Extract(certificate, type.Rule);
            var decision = extraction.Serial is { } serial
                ? await ForOrderAsync(type.ManufacturerId, serial, type, cancellationToken)
                : RedirectDecision.Refuse(RedirectRefusal.NotAuthenticated,
                    $"The certificate chains to the factory CA of device type '{type.Name}' but its serial cannot be read: {extraction.Error}",
                    "no-serial", type: type);
            if (best is null || Rank(decision) < Rank(best))
                best = decision;
        }

        return best!;
    }

    /// <summary>The decision for a serial of one manufacturer, whatever certificate the device will present (the preview).</summary>
    public async Task<RedirectDecision> ForSerialAsync(Guid manufacturerId, string serial, CancellationToken cancellationToken)
    {
        var decision = await ForOrderAsync(manufacturerId, serial, null, cancellationToken);
        if (decision.Order?.DeviceTypeId is { } typeId && decision.DeviceType is null)
        {
            var type = await db.DeviceTypes.AsNoTracking().SingleAsync(t => t.Id == typeId, cancellationToken);
            decision = decision with { DeviceType = new FactoryDeviceType(type.Id, type.ManufacturerId, type.Name, new SerialRule(type.SerialSource, type.SerialPattern), []) };
        }

        return decision;
    }

    private async Task<RedirectDecision> ForOrderAsync(Guid manufacturerId, string serial, FactoryDeviceType? type, CancellationToken cancellationToken)
    {
        var orders = await db.Orders.AsNoTracking()
            .Where(o => o.ManufacturerId == manufacturerId && o.SerialNumber == serial)
            .OrderByDescending(o => o.UpdatedAt).Take(10).ToListAsync(cancellationToken);
        var live = orders.FirstOrDefault(o => o.State != OrderState.Cancelled);
        if (live is null)
        {
            return orders.Count > 0
                ? RedirectDecision.Refuse(RedirectRefusal.Forbidden, $"The order for serial {serial} was cancelled by the manufacturer.", "order-cancelled", serial, type, orders[0])
                : RedirectDecision.Refuse(RedirectRefusal.NoData, $"This redirect server has no order for serial {serial}.", "unknown-serial", serial, type);
        }

        if (type is not null && live.DeviceTypeId is { } bound && bound != type.Id)
            return RedirectDecision.Refuse(RedirectRefusal.Forbidden,
                $"The order for serial {serial} is for another device type than the one this certificate belongs to ('{type.Name}').",
                "wrong-device-type", serial, type, live);

        var profile = await db.NmsProfiles.AsNoTracking().SingleAsync(p => p.Id == live.NmsProfileId, cancellationToken);
        return new RedirectDecision(serial, type, live, profile);
    }

    private static int Rank(RedirectDecision decision) => decision.Refusal switch
    {
        null => 0,
        RedirectRefusal.Forbidden when decision.AppTag == "wrong-device-type" => 1,
        RedirectRefusal.Forbidden => 2,
        RedirectRefusal.NoData => 3,
        _ => 4,
    };

    /// <summary>
    /// RFC 8572 §2.2.1 redirect-information naming the profile's NMS bootstrap server (host, port, and the bundle's
    /// bootstrapServer.trustAnchor, a certificates-only CMS).
    /// </summary>
    public static RedirectInformation RedirectInformation(NmsProfile profile)
    {
        var url = new Uri(profile.BootstrapUrl);
        var trustAnchor = string.IsNullOrEmpty(profile.BootstrapTrustAnchor) ? null : Convert.FromBase64String(profile.BootstrapTrustAnchor);
        // An IPv6 literal is given without brackets: the leaf is an inet:host.
        return new RedirectInformation([new BootstrapServer(url.IdnHost.Trim('[', ']'), checked((ushort)url.Port), trustAnchor)]);
    }
}
