using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Onboarding.CallHome.Sessions;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// An NMS host of a multi-host deployment: its API on a port chosen before the start, announced to the other hosts as
/// <c>Nms:CallHome:InternalApiUrl</c>; a heartbeat every second (hosts count as stale after 15 s, long enough for a
/// loaded test machine); keepalives every second, so a session's LastSeen moves while a test watches.
/// </summary>
public sealed class RegistryCallHomeFactory : CallHomeFactory
{
    public RegistryCallHomeFactory()
    {
        HttpPort = HostProcess.FreePort();
        UseKestrel(HttpPort);
        With("Nms:CallHome:InternalApiUrl", ApiUrl);
        With("Nms:CallHome:HeartbeatInterval", "00:00:01");
        With("Nms:CallHome:HostStaleAfter", "00:00:15");
        With("Nms:CallHome:KeepaliveInterval", "00:00:01");
        // Bounds the exec test's command that never ends; still ample for an RPC on a loaded machine.
        With("Nms:CallHome:RpcTimeout", "00:00:20");
        // Many silent intervals before a session counts as half-open: a loaded machine must not drop one.
        With("Nms:CallHome:KeepaliveCountMax", "60");
    }

    public int HttpPort { get; }

    public string ApiUrl => "http://127.0.0.1:" + HttpPort.ToString(CultureInfo.InvariantCulture);

    internal CallHomeRegistry Registry => Services.GetRequiredService<CallHomeRegistry>();

    internal CallHomeSessions Sessions => Services.GetRequiredService<CallHomeSessions>();
}

/// <summary>Two NMS hosts on one PostgreSQL database and one key store (DESIGN.md "Scale-out"): A starts first, B joins.</summary>
public sealed class CallHomeTwoHosts : IAsyncLifetime
{
    public RegistryCallHomeFactory A { get; } = new();

    public RegistryCallHomeFactory B { get; } = new();

    public NpgsqlDataSource Database { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await A.InitializeAsync();
        B.ShareDatabaseWith(A);
        await B.InitializeAsync();
        Database = NpgsqlDataSource.Create(A.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await Database.DisposeAsync();
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}
