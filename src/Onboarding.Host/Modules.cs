using Onboarding.Accounts;
using Onboarding.CallHome;
using Onboarding.Drop;
using Onboarding.HostKeys;
using Onboarding.Inventory;
using Onboarding.NmsBootstrap;
using Onboarding.Notifications;
using Onboarding.Provisioning;
using Onboarding.Redirect;
using Onboarding.Telemetry;

namespace Onboarding.Host;

/// <summary>The parts of the product one host plays (DESIGN.md, "Modules and how they talk").</summary>
internal enum HostRole
{
    /// <summary>The customer's NMS: accounts, host keys, the device inventory, its RFC 8572 bootstrap server, the call-home listener, pre-configuration, the SFTP drop, telemetry, owner notifications.</summary>
    Nms,

    /// <summary>The manufacturer's redirect server (RFC 8572): manufacturers, device types, NMS profiles, orders.</summary>
    Redirect,
}

/// <summary>The roles this host was configured with, read once by <see cref="Modules.AddModules"/>.</summary>
internal sealed record HostRoles(IReadOnlySet<HostRole> Roles)
{
    public bool Has(HostRole role) => Roles.Contains(role);

    public override string ToString() => string.Join(", ", Roles.Order());
}

/// <summary>
/// Which modules a host composes: the one place that reads <c>Roles</c>. Each role is a list of modules; a module two
/// roles need is added once.
/// </summary>
internal static class Modules
{
    public const string RolesKey = "Roles";

    public static WebApplicationBuilder AddModules(this WebApplicationBuilder builder)
    {
        var roles = ReadRoles(builder.Configuration);
        builder.Services.AddSingleton(roles);
        if (roles.Has(HostRole.Nms))
        {
            builder.AddHostKeys();
            builder.AddAccounts();
            builder.AddInventory();
            builder.AddNmsBootstrap();
            builder.AddProvisioning();
            builder.AddCallHome();
            builder.AddDrop();
            builder.AddTelemetry();
            builder.AddNotifications();
        }

        if (roles.Has(HostRole.Redirect))
            builder.AddRedirect();

        return builder;
    }

    public static WebApplication MapModules(this WebApplication app)
    {
        var roles = app.Services.GetRequiredService<HostRoles>();
        if (roles.Has(HostRole.Nms))
        {
            app.MapHostKeys();
            app.MapAccounts();
            app.MapInventory();
            app.MapNmsBootstrap();
            app.MapProvisioning();
            app.MapCallHome();
            app.MapDrop();
            app.MapTelemetry();
            app.MapNotifications();
        }

        if (roles.Has(HostRole.Redirect))
            app.MapRedirect();

        app.Logger.LogInformation("Roles: {Roles}", roles);
        return app;
    }

    /// <summary>
    /// <c>Roles</c> as a list (<c>Roles:0=Nms</c>, <c>Roles__1=Redirect</c>, a JSON array) or as one comma-separated value
    /// (<c>Roles=Nms,Redirect</c>); unset means both. Role names are case-insensitive; anything else refuses to start.
    /// The default is not in appsettings.json on purpose: configuration merges lists by index, so an environment's
    /// <c>Roles__0=Redirect</c> over a file's <c>[Nms, Redirect]</c> would still yield both.
    /// </summary>
    public static HostRoles ReadRoles(IConfiguration configuration)
    {
        var section = configuration.GetSection(RolesKey);
        var children = section.GetChildren().ToList();
        if (children.Count == 0 && section.Value is null)
            return new HostRoles(new HashSet<HostRole> { HostRole.Nms, HostRole.Redirect });

        var names = children.Count > 0 ? children.Select(child => child.Value ?? "") : section.Value!.Split(',');
        var roles = new HashSet<HostRole>();
        foreach (var name in names.Select(n => n.Trim()).Where(n => n.Length > 0))
        {
            // Not Enum.TryParse: it would also accept "0" or "Nms, Redirect" as a role.
            var known = Enum.GetValues<HostRole>().Where(r => string.Equals(r.ToString(), name, StringComparison.OrdinalIgnoreCase)).ToList();
            if (known.Count == 0)
                throw new InvalidOperationException($"Roles: unknown role '{name}'. Known roles: {KnownRoles} "
                    + "(e.g. Roles__0=Nms, --Roles:0=Redirect or Roles=Nms,Redirect; unset means both).");
            roles.Add(known[0]);
        }

        return roles.Count > 0 ? new HostRoles(roles) : throw new InvalidOperationException($"Roles is empty: name at least one of {KnownRoles}.");
    }

    private static string KnownRoles => string.Join(", ", Enum.GetNames<HostRole>());
}
