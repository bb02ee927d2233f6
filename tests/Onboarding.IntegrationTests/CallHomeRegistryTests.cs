using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Onboarding.CallHome;
using Onboarding.CallHome.Api;
using Onboarding.CallHome.Sessions;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Contracts;
using Onboarding.ServiceDefaults.Database;
using Onboarding.Ssh.Keys;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The call-home session registry in PostgreSQL with two NMS hosts on one database (DESIGN.md "Scale-out"): a session
/// is a row naming its host; either host lists it; an RPC or a DELETE sent to the other host is forwarded to the holder
/// (once: the forwarded request is never forwarded again); tenants stay apart through either host; a device that calls
/// again through the other host loses its old session; a host that stopped its heartbeat is neither listed nor kept;
/// a holder that cannot be reached is a 503 naming it. Devices are OpenSSH sshd with yuma123 netconfd behind it.
/// </summary>
public class CallHomeRegistryTests(CallHomeTwoHosts hosts, NetconfdServer netconfd)
    : CallHomeRig(hosts.A), IClassFixture<CallHomeTwoHosts>, IClassFixture<NetconfdServer>
{
    private const string GetConfig = "<rpc xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\" message-id=\"1\"><get-config><source><running/></source></get-config></rpc>";

    private static readonly XNamespace Nc = "urn:ietf:params:xml:ns:netconf:base:1.0";

    private static StringContent Xml(string xml) => new(xml, Encoding.UTF8, "application/xml");

    private sealed record Row(Guid HostId, string ConnectionId, string Serial, Guid CustomerId, string? RemoteEndPoint, DateTimeOffset Since, DateTimeOffset LastSeen);

    [Fact]
    public async Task A_session_is_a_row_naming_its_host_last_seen_follows_keepalives_and_the_row_goes_with_the_session()
    {
        var setup = await ManufacturerAsync("Registry Row Telecom");
        using var hostKey = SshHostKey.GenerateEd25519();
        var bookkept = await BootstrapAsync(setup, "CH-REG-ROW", hostKey);
        using var device = new SshdDevice(hostKey, Nms, netconfd);
        var call = device.CallHome(hosts.A.CallHomePort);
        Assert.True((await Factory.Probe.ResultAsync(bookkept.Id)).Succeeded, device.Log.ToString());
        var live = Assert.IsType<LiveCallHome>(hosts.A.Sessions.Find(bookkept.Id));

        var row = await EventuallyAsync(() => RowAsync(bookkept.Id), r => r is not null && r.LastSeen > r.Since, "no row, or its LastSeen never moved");
        Assert.Equal((hosts.A.Registry.HostId, live.ConnectionId, "CH-REG-ROW", setup.Profile.Id), (row!.HostId, row.ConnectionId, row.Serial, row.CustomerId));
        Assert.StartsWith("127.0.0.1:", row.RemoteEndPoint, StringComparison.Ordinal);
        Assert.Equal(live.Since.ToPostgresPrecision(), row.Since);
        await using (var command = hosts.Database.CreateCommand("SELECT api_url, heartbeat_at > now() - interval '15 seconds' FROM call_home.hosts WHERE host_id = @host"))
        {
            command.Parameters.AddWithValue("host", hosts.A.Registry.HostId);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal((hosts.A.ApiUrl, true), (reader.GetString(0), reader.GetBoolean(1)));
        }

        // Only sshd's answers to keepalives move LastSeen from here on (nothing else talks to the session).
        var before = row.LastSeen;
        await EventuallyAsync(() => RowAsync(bookkept.Id), r => r is not null && r.LastSeen > before, "LastSeen did not follow the keepalives\n" + device.Log);

        // The device goes away: the session ends and its row with it.
        call.Kill(entireProcessTree: true);
        await EventuallyAsync(() => RowAsync(bookkept.Id), r => r is null, "the row outlived its session");
        Assert.Null(hosts.A.Sessions.Find(bookkept.Id));
    }

    [Fact]
    public async Task Host_B_lists_the_session_of_host_A_forwards_rpcs_and_deletes_to_it_and_keeps_tenants_apart()
    {
        var setup = await ManufacturerAsync("Registry Two Hosts Telecom");
        using var hostKey = SshHostKey.GenerateEd25519();
        var bookkept = await BootstrapAsync(setup, "CH-REG-FWD", hostKey);
        using var device = new SshdDevice(hostKey, Nms, netconfd);
        var call = device.CallHome(hosts.A.CallHomePort);
        Assert.True((await Factory.Probe.ResultAsync(bookkept.Id)).Succeeded, device.Log.ToString());
        await EventuallyAsync(() => RowAsync(bookkept.Id), r => r is not null, "no row");
        using var viaB = hosts.B.CreateCustomerClient(setup.Profile.ApiKey);

        // Both hosts list the session, naming host A.
        foreach (var client in new[] { setup.Customer, viaB })
        {
            var listed = Assert.Single((await client.GetFromJsonAsync<JsonElement>("/api/callhome/sessions")).EnumerateArray());
            Assert.Equal((bookkept.Id.ToString(), "CH-REG-FWD", hosts.A.Registry.HostId.ToString()),
                (listed.GetProperty("deviceId").GetString(), listed.GetProperty("serialNumber").GetString(), listed.GetProperty("hostId").GetString()));
        }

        Assert.Null(hosts.B.Sessions.Find(bookkept.Id));
        var rpc = $"/api/callhome/sessions/{bookkept.Id}/rpc";

        // An RPC sent to host B reaches the device through host A; netconfd's reply comes back as it is.
        var answer = await viaB.PostAsync(rpc, Xml(GetConfig));
        var text = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.OK, text + "\n" + device.Log);
        Assert.Equal(hosts.A.Registry.HostId.ToString(), answer.Headers.GetValues("X-Onboarding-Served-By").Single());
        Assert.Equal("application/xml", answer.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(XElement.Parse(text).Element(Nc + "data"));
        // The device's rpc-error and host A's own refusals are relayed as they are (ProblemDetails).
        var refused = await viaB.PostAsync(rpc, Xml("<get-config xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><source><no-such-datastore/></source></get-config>"));
        Assert.NotEqual(0, (await Problem.AssertAsync(refused, HttpStatusCode.UnprocessableEntity)).GetProperty("rpcErrors").GetArrayLength());
        await Problem.AssertAsync(await viaB.PostAsync(rpc, Xml("<get-config><source>")), HttpStatusCode.BadRequest);

        // The loop guard: a request marked as forwarded is served from host B's own sessions only, never sent on.
        using (var forwarded = new HttpRequestMessage(HttpMethod.Post, rpc) { Content = Xml(GetConfig) })
        {
            forwarded.Headers.Add(CallHomeForwarding.ForwardedByHeader, Guid.NewGuid().ToString());
            var guarded = await viaB.SendAsync(forwarded);
            await Problem.AssertAsync(guarded, HttpStatusCode.NotFound);
            Assert.False(guarded.Headers.Contains("X-Onboarding-Served-By"));
        }

        // Another customer: nothing listed, 404 through either host, for the RPC and the DELETE alike.
        var (strangerA, stranger) = await hosts.A.SignUpAsync("Registry Stranger Telecom");
        using var strangerB = hosts.B.CreateCustomerClient(stranger.ApiKey);
        foreach (var client in new[] { strangerA, strangerB })
        {
            Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/callhome/sessions")).EnumerateArray());
            await Problem.AssertAsync(await client.PostAsync(rpc, Xml(GetConfig)), HttpStatusCode.NotFound);
            await Problem.AssertAsync(await client.DeleteAsync($"/api/callhome/sessions/{bookkept.Id}"), HttpStatusCode.NotFound);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await hosts.B.CreateClient().PostAsync(rpc, Xml(GetConfig))).StatusCode);
        Assert.NotNull(hosts.A.Sessions.Find(bookkept.Id));

        // A DELETE sent to host B closes the session on host A: the device sees its connection end, the row goes.
        var deleted = await viaB.DeleteAsync($"/api/callhome/sessions/{bookkept.Id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(hosts.A.Registry.HostId.ToString(), deleted.Headers.GetValues("X-Onboarding-Served-By").Single());
        await ExitsAsync(call);
        Assert.Null(hosts.A.Sessions.Find(bookkept.Id));
        await EventuallyAsync(() => RowAsync(bookkept.Id), r => r is null, "the row outlived the deleted session");
        await Problem.AssertAsync(await viaB.PostAsync(rpc, Xml(GetConfig)), HttpStatusCode.NotFound);
        Assert.Empty((await viaB.GetFromJsonAsync<JsonElement>("/api/callhome/sessions")).EnumerateArray());
    }

    [Fact]
    public async Task A_device_calling_home_again_through_host_B_loses_its_session_on_host_A()
    {
        var setup = await ManufacturerAsync("Registry Move Telecom");
        using var hostKey = SshHostKey.GenerateEd25519();
        var bookkept = await BootstrapAsync(setup, "CH-REG-MOVE", hostKey);
        using var device = new SshdDevice(hostKey, Nms, netconfd);
        var first = device.CallHome(hosts.A.CallHomePort);
        await EventuallyAsync(() => RowAsync(bookkept.Id), r => r is not null && r.HostId == hosts.A.Registry.HostId, "no row for host A\n" + device.Log);
        var onA = Assert.IsType<LiveCallHome>(hosts.A.Sessions.Find(bookkept.Id));

        // The device reboots behind a load balancer that now sends it to host B.
        var second = device.CallHome(hosts.B.CallHomePort);
        var row = await EventuallyAsync(() => RowAsync(bookkept.Id), r => r is not null && r.HostId == hosts.B.Registry.HostId, "no row for host B\n" + device.Log);
        var onB = Assert.IsType<LiveCallHome>(hosts.B.Sessions.Find(bookkept.Id));
        Assert.Equal(onB.ConnectionId, row!.ConnectionId);

        // Host A's heartbeat sees the row name host B and closes its old session; the device's old connection ends.
        await ExitsAsync(first);
        await onA.Session.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        await EventuallyAsync(() => Task.FromResult(hosts.A.Sessions.Find(bookkept.Id)), s => s is null, "host A kept the old session");
        Assert.False(second.HasExited);
        Assert.False(onB.Session.Completion.IsCompleted);
        Assert.Equal((hosts.B.Registry.HostId, onB.ConnectionId), ((await RowAsync(bookkept.Id))!.HostId, (await RowAsync(bookkept.Id))!.ConnectionId));
        var listed = Assert.Single((await setup.Customer.GetFromJsonAsync<JsonElement>("/api/callhome/sessions")).EnumerateArray());
        Assert.Equal(hosts.B.Registry.HostId.ToString(), listed.GetProperty("hostId").GetString());

        // Host A, asked now, forwards to host B.
        var answer = await setup.Customer.PostAsync($"/api/callhome/sessions/{bookkept.Id}/rpc", Xml(GetConfig));
        Assert.True(answer.StatusCode == HttpStatusCode.OK, await answer.Content.ReadAsStringAsync());
        Assert.Equal(hosts.B.Registry.HostId.ToString(), answer.Headers.GetValues("X-Onboarding-Served-By").Single());
    }

    [Fact]
    public async Task A_host_that_stopped_its_heartbeat_is_not_listed_and_is_reaped_with_its_sessions()
    {
        // A host killed with -9: its rows stay behind, its heartbeat grows old.
        var setup = await ManufacturerAsync("Registry Stale Telecom");
        var dead = Guid.NewGuid();
        var device = Guid.NewGuid();
        await ExecuteAsync("""
            INSERT INTO call_home.hosts (host_id, api_url, started_at, heartbeat_at) VALUES (@host, 'http://127.0.0.1:9', now() - interval '2 hours', now() - interval '1 hour');
            INSERT INTO call_home.sessions (device_id, customer_id, serial, host_id, connection_id, remote_endpoint, since, last_seen)
            VALUES (@device, @customer, 'CH-REG-DEAD', @host, 'deadbeef', '127.0.0.1:1', now() - interval '2 hours', now() - interval '1 hour');
            """, ("host", dead), ("device", device), ("customer", setup.Profile.Id));

        using var viaB = hosts.B.CreateCustomerClient(setup.Profile.ApiKey);
        Assert.Empty((await viaB.GetFromJsonAsync<JsonElement>("/api/callhome/sessions")).EnumerateArray());
        await Problem.AssertAsync(await viaB.PostAsync($"/api/callhome/sessions/{device}/rpc", Xml(GetConfig)), HttpStatusCode.NotFound);
        await EventuallyAsync(() => CountAsync("SELECT count(*) FROM call_home.hosts WHERE host_id = @id", dead), n => n == 0, "the stale host was not reaped");
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM call_home.sessions WHERE host_id = @id", dead));
        // The live hosts are untouched.
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM call_home.hosts WHERE host_id <> @id", dead));
    }

    [Fact]
    public async Task The_listing_hides_a_stale_host_by_itself_and_the_reaper_deletes_it_with_its_sessions()
    {
        // On a database of its own, where no host's heartbeat reaps behind the test's back.
        var server = await PostgresServer.Instance;
        await using var dataSource = NpgsqlDataSource.Create(await server.CreateEmptyDatabaseAsync("callhome-registry"));
        var migrations = hosts.A.Services.GetServices<ModuleMigrations>().Where(m => m.Module == "call_home");
        await new MigrationRunner(dataSource, migrations, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None);
        var registry = new CallHomeRegistry(dataSource, Options.Create(new CallHomeOptions()), TimeProvider.System);
        var customer = Guid.NewGuid();
        var (fresh, stale) = (Guid.NewGuid(), Guid.NewGuid());
        var (onFresh, onStale) = (new DeviceId(Guid.NewGuid()), new DeviceId(Guid.NewGuid()));
        await using (var command = dataSource.CreateCommand("""
            INSERT INTO call_home.hosts VALUES (@fresh, 'http://fresh', now(), now()), (@stale, 'http://stale', now() - interval '1 hour', now() - interval '1 minute');
            INSERT INTO call_home.sessions VALUES (@onFresh, @customer, 'FRESH', @fresh, 'c1', null, now(), now()),
                                                  (@onStale, @customer, 'STALE', @stale, 'c2', null, now(), now());
            """))
        {
            foreach (var (name, value) in new[] { ("fresh", fresh), ("stale", stale), ("onFresh", onFresh.Value), ("onStale", onStale.Value), ("customer", customer) })
                command.Parameters.AddWithValue(name, value);
            await command.ExecuteNonQueryAsync();
        }

        var listed = await registry.ListAsync(customer, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(onFresh, Assert.Single(listed).DeviceId);
        Assert.Empty(await registry.ListAsync(Guid.NewGuid(), TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Equal(new SessionHolder(fresh, "http://fresh"), await registry.FindHolderAsync(onFresh, customer, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Null(await registry.FindHolderAsync(onStale, customer, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Null(await registry.FindHolderAsync(onFresh, Guid.NewGuid(), TimeSpan.FromSeconds(30), CancellationToken.None));

        Assert.Equal((stale, 1L), Assert.Single(await registry.ReapAsync(TimeSpan.FromSeconds(30), CancellationToken.None)));
        await using var remaining = dataSource.CreateCommand("SELECT (SELECT count(*) FROM call_home.hosts), (SELECT count(*) FROM call_home.sessions)");
        await using var reader = await remaining.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((1L, 1L), (reader.GetInt64(0), reader.GetInt64(1)));
    }

    [Fact]
    public async Task A_holding_host_that_cannot_be_reached_or_announced_no_api_url_is_a_503_naming_it()
    {
        var setup = await ManufacturerAsync("Registry Unreachable Telecom");
        var (unreachable, silent) = (Guid.NewGuid(), Guid.NewGuid());
        var (onUnreachable, onSilent) = (Guid.NewGuid(), Guid.NewGuid());
        // Live hosts (fresh heartbeats, kept fresh for the test's length); nothing listens at the first one's URL.
        await ExecuteAsync("""
            INSERT INTO call_home.hosts (host_id, api_url, started_at, heartbeat_at) VALUES
                (@unreachable, @url, now(), now() + interval '1 hour'), (@silent, NULL, now(), now() + interval '1 hour');
            INSERT INTO call_home.sessions (device_id, customer_id, serial, host_id, connection_id, remote_endpoint, since, last_seen) VALUES
                (@onUnreachable, @customer, 'CH-REG-GONE', @unreachable, 'c1', NULL, now(), now()),
                (@onSilent, @customer, 'CH-REG-SILENT', @silent, 'c2', NULL, now(), now());
            """, ("unreachable", unreachable), ("silent", silent), ("url", $"http://127.0.0.1:{HostProcess.FreePort()}"),
            ("onUnreachable", onUnreachable), ("onSilent", onSilent), ("customer", setup.Profile.Id));
        try
        {
            using var viaB = hosts.B.CreateCustomerClient(setup.Profile.ApiKey);
            foreach (var (deviceId, hostId) in new[] { (onUnreachable, unreachable), (onSilent, silent) })
            {
                var rpc = await Problem.AssertAsync(await viaB.PostAsync($"/api/callhome/sessions/{deviceId}/rpc", Xml(GetConfig)), HttpStatusCode.ServiceUnavailable);
                Assert.Equal(hostId.ToString(), rpc.GetProperty("hostId").GetString());
                Assert.Contains(hostId.ToString(), rpc.GetProperty("detail").GetString(), StringComparison.Ordinal);
                var delete = await Problem.AssertAsync(await setup.Customer.DeleteAsync($"/api/callhome/sessions/{deviceId}"), HttpStatusCode.ServiceUnavailable);
                Assert.Equal(hostId.ToString(), delete.GetProperty("hostId").GetString());
            }

            // Both are listed (their hosts are alive as far as the table knows); host B kept serving throughout.
            var listed = (await viaB.GetFromJsonAsync<JsonElement>("/api/callhome/sessions")).EnumerateArray().Select(s => s.GetProperty("hostId").GetString()).ToList();
            Assert.Equal(new[] { unreachable.ToString(), silent.ToString() }.Order(), listed.Order());
        }
        finally
        {
            await ExecuteAsync("DELETE FROM call_home.hosts WHERE host_id IN (@unreachable, @silent)", ("unreachable", unreachable), ("silent", silent));
        }
    }

    [Fact]
    public async Task Registry_writes_that_fail_keep_the_sessions_up_and_the_heartbeat_makes_them_later()
    {
        var setup = await ManufacturerAsync("Registry Outage Telecom");
        using var keyBefore = SshHostKey.GenerateEd25519();
        using var keyDuring = SshHostKey.GenerateEd25519();
        var before = await BootstrapAsync(setup, "CH-REG-OUT-1", keyBefore);
        var during = await BootstrapAsync(setup, "CH-REG-OUT-2", keyDuring);
        using var deviceBefore = new SshdDevice(keyBefore, Nms, netconfd);
        using var deviceDuring = new SshdDevice(keyDuring, Nms, netconfd);
        var callBefore = deviceBefore.CallHome(hosts.A.CallHomePort);
        await EventuallyAsync(() => RowAsync(before.Id), r => r is not null, "no row before the outage\n" + deviceBefore.Log);

        // The registry's table is unavailable (what a failing database looks like to these statements).
        await ExecuteAsync("ALTER TABLE call_home.sessions RENAME TO sessions_unavailable");
        LiveCallHome live;
        try
        {
            // A device calling now gets its session all the same, and it works.
            var callDuring = deviceDuring.CallHome(hosts.A.CallHomePort);
            Assert.True((await Factory.Probe.ResultAsync(during.Id)).Succeeded, deviceDuring.Log.ToString());
            await WaitForLogAsync("Could not register 1 call-home session(s) in the database");
            live = Assert.IsType<LiveCallHome>(hosts.A.Sessions.Find(during.Id));
            Assert.False(live.Registered);
            var answer = await setup.Customer.PostAsync($"/api/callhome/sessions/{during.Id}/rpc", Xml(GetConfig));
            Assert.True(answer.StatusCode == HttpStatusCode.OK, await answer.Content.ReadAsStringAsync());
            Assert.False(callDuring.HasExited);

            // A session closed now cannot delete its row yet.
            Assert.Equal(HttpStatusCode.NoContent, (await setup.Customer.DeleteAsync($"/api/callhome/sessions/{before.Id}")).StatusCode);
            await ExitsAsync(callBefore);
            await WaitForLogAsync($"Could not delete the registry row of device {before.Id}'s ended call-home session");
        }
        finally
        {
            await ExecuteAsync("ALTER TABLE call_home.sessions_unavailable RENAME TO sessions");
        }

        // Back: the heartbeat writes the live session's row and deletes the closed one's; the live session is the same one.
        var row = await EventuallyAsync(() => RowAsync(during.Id), r => r is not null, "the heartbeat did not register the session");
        Assert.Equal((hosts.A.Registry.HostId, live.ConnectionId), (row!.HostId, row.ConnectionId));
        await EventuallyAsync(() => RowAsync(before.Id), r => r is null, "the heartbeat did not delete the closed session's row");
        Assert.True(live.Registered);
        Assert.Same(live, hosts.A.Sessions.Find(during.Id));
    }

    [Fact]
    public async Task Exec_runs_a_cli_command_on_the_session_through_either_host_with_bounded_output_and_a_timeout()
    {
        var setup = await ManufacturerAsync("Registry Exec Telecom");
        using var hostKey = SshHostKey.GenerateEd25519();
        var bookkept = await BootstrapAsync(setup, "CH-REG-EXEC", hostKey);
        using var device = new SshdDevice(hostKey, Nms, netconfd);
        var call = device.CallHome(hosts.A.CallHomePort);
        await EventuallyAsync(() => RowAsync(bookkept.Id), r => r is not null, "no row\n" + device.Log);
        using var viaB = hosts.B.CreateCustomerClient(setup.Profile.ApiKey);
        var exec = $"/api/callhome/sessions/{bookkept.Id}/exec";

        // sshd runs it through the login shell: stdout, stderr and the exit status come back, from host A and through host B.
        foreach (var client in new[] { setup.Customer, viaB })
        {
            var answer = await client.PostAsJsonAsync(exec, new { command = "echo exec-out; echo exec-err >&2; exit 3" });
            var text = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.OK, text + "\n" + device.Log);
            var result = JsonDocument.Parse(text).RootElement;
            Assert.Equal(3, result.GetProperty("exitStatus").GetInt32());
            Assert.Contains("exec-out", result.GetProperty("stdout").GetString(), StringComparison.Ordinal);
            Assert.Contains("exec-err", result.GetProperty("stderr").GetString(), StringComparison.Ordinal);
            Assert.False(result.GetProperty("stdoutTruncated").GetBoolean());
        }

        // More than 1 MiB of output: the first MiB, marked truncated.
        var big = await viaB.PostAsJsonAsync(exec, new { command = "head -c 3000000 /dev/zero | tr '\\0' x" });
        var bigText = await big.Content.ReadAsStringAsync();
        Assert.True(big.StatusCode == HttpStatusCode.OK, bigText);
        var bigResult = JsonDocument.Parse(bigText).RootElement;
        Assert.True(bigResult.GetProperty("stdoutTruncated").GetBoolean());
        Assert.Equal(CallHomeExecApi.MaxStdoutBytes, bigResult.GetProperty("stdout").GetString()!.Length);

        // Bad requests are refused before anything reaches the device; another customer sees nothing.
        await Problem.AssertAsync(await setup.Customer.PostAsJsonAsync(exec, new { command = "" }), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await viaB.PostAsJsonAsync(exec, new { command = new string('x', 5000) }), HttpStatusCode.BadRequest);
        await Problem.AssertAsync(await setup.Customer.PostAsync(exec, new StringContent("{not json", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        var (stranger, _) = await hosts.A.SignUpAsync("Registry Exec Stranger Telecom");
        await Problem.AssertAsync(await stranger.PostAsJsonAsync(exec, new { command = "id" }), HttpStatusCode.NotFound);

        // A command that never ends: 504 after RpcTimeout, and the session stays usable.
        await Problem.AssertAsync(await setup.Customer.PostAsJsonAsync(exec, new { command = "sleep 600" }), HttpStatusCode.GatewayTimeout);
        var after = await setup.Customer.PostAsJsonAsync(exec, new { command = "echo still-here" });
        Assert.Contains("still-here", await after.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(call.HasExited);
    }

    [Fact]
    public async Task A_restarted_host_drops_its_previous_incarnation_at_once_and_a_stopping_host_leaves_the_registry()
    {
        var setup = await ManufacturerAsync("Registry Restart Telecom");
        var third = new RegistryCallHomeFactory();
        third.ShareDatabaseWith(hosts.A);
        var stopped = false;
        try
        {
            // What a kill -9 of this host's previous process left: a heartbeat that still looks fresh, and a session.
            var previous = Guid.NewGuid();
            await ExecuteAsync("""
                INSERT INTO call_home.hosts (host_id, api_url, started_at, heartbeat_at) VALUES (@host, @url, now(), now() + interval '1 hour');
                INSERT INTO call_home.sessions (device_id, customer_id, serial, host_id, connection_id, remote_endpoint, since, last_seen)
                VALUES (@device, @customer, 'CH-REG-PREVIOUS', @host, 'previous', NULL, now(), now());
                """, ("host", previous), ("url", third.ApiUrl), ("device", Guid.NewGuid()), ("customer", setup.Profile.Id));
            Assert.Single((await setup.Customer.GetFromJsonAsync<JsonElement>("/api/callhome/sessions")).EnumerateArray());

            // The process starts again on the same address: the previous one's rows go with its first heartbeat.
            await third.InitializeAsync();
            var hostId = third.Registry.HostId;
            await EventuallyAsync(() => CountAsync("SELECT count(*) FROM call_home.hosts WHERE host_id = @id", hostId), n => n == 1, "the new process never announced itself");
            Assert.Equal(0, await CountAsync("SELECT count(*) FROM call_home.hosts WHERE host_id = @id", previous));
            Assert.Empty((await setup.Customer.GetFromJsonAsync<JsonElement>("/api/callhome/sessions")).EnumerateArray());

            // A clean stop takes the host out at once, not after HostStaleAfter.
            stopped = true;
            await third.DisposeAsync();
            Assert.Equal(0, await CountAsync("SELECT count(*) FROM call_home.hosts WHERE host_id = @id", hostId));
        }
        finally
        {
            if (!stopped)
                await third.DisposeAsync();
        }
    }

    private async Task<Row?> RowAsync(DeviceId deviceId)
    {
        await using var command = hosts.Database.CreateCommand(
            "SELECT host_id, connection_id, serial, customer_id, remote_endpoint, since, last_seen FROM call_home.sessions WHERE device_id = @device");
        command.Parameters.AddWithValue("device", deviceId.Value);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync()
            ? new Row(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetGuid(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5), reader.GetFieldValue<DateTimeOffset>(6))
            : null;
    }

    private async Task<long> CountAsync(string sql, Guid id)
    {
        await using var command = hosts.Database.CreateCommand(sql);
        command.Parameters.AddWithValue("id", id);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = hosts.Database.CreateCommand(sql);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var value = await read();
            if (condition(value))
                return value;
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(200);
        }
    }
}
