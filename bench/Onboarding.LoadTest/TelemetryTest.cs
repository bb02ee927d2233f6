using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Npgsql;
using Onboarding.Bench.Harness;
using Onboarding.Mqtt;
using Onboarding.Ssh;

namespace Onboarding.LoadTest;

internal sealed record TelemetrySettings(
    Uri Url, int SftpPort, string Database, string AdminKeyFile, string CaDirectory, int DevicePort, int InternalPort,
    int Devices, int Messages, int InFlight, bool RestartPostgres, string PgData, string PgCtl, int TimeoutSeconds, int Rounds, bool Warmup,
    int StopBrokerSeconds = 0, string StopBrokerSignal = "TERM");

/// <summary>
/// Telemetry messages per second through a RUNNING host (mosquitto from run.sh + the host's ingester), K devices
/// publishing N QoS 1 messages each over TLS with issued client certificates, timed from the first publish to the last
/// committed row in telemetry.readings (polled with Npgsql). Baseline in the same run, same broker, same publishers and
/// payloads: mosquitto_sub on the internal listener piped into psql COPY. The baseline uses the topic leaf
/// <c>lt-baseline</c> (devices may publish anywhere under devices/&lt;serial&gt;/, the ingester only subscribes to
/// …/telemetry and …/state), so the host's ingester never sees baseline traffic and can keep running.
/// </summary>
internal static class TelemetryTest
{
    private const string BaselineTable = "loadtest_telemetry_baseline";
    private const string BaselineLeaf = "lt-baseline";

    private sealed record Device(string Serial, long DeviceName, MqttClient Client, X509Certificate2 Certificate, X509Certificate2 Ca);

    public static async Task<int> RunAsync(TelemetrySettings settings, CancellationToken cancellationToken)
    {
        Report.Header($"telemetry url={settings.Url} devices={settings.Devices} messages/device={settings.Messages} in-flight/device={settings.InFlight} restart-postgres={settings.RestartPostgres} stop-broker-for={settings.StopBrokerSeconds} s (SIG{settings.StopBrokerSignal})");
        var runId = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var prefix = $"TB{runId}-";
        var serials = Enumerable.Range(0, settings.Devices).Select(i => $"{prefix}{i:D4}").ToArray();
        var total = settings.Devices * settings.Messages;
        var adminKey = (await File.ReadAllTextAsync(settings.AdminKeyFile, cancellationToken)).Trim();
        var ingesterSecret = (await File.ReadAllTextAsync(Path.Combine(settings.CaDirectory, "ingester.secret"), cancellationToken)).Trim();

        var setup = Stopwatch.StartNew();
        using var tenant = await BookkeepAsync(settings.Url, settings.SftpPort, runId, serials, cancellationToken);
        var http = tenant.Http;
        var devices = new List<Device>();
        try
        {
            foreach (var serial in serials)
                devices.Add(await IssueAndConnectAsync(http, adminKey, serial, settings.DevicePort, cancellationToken));
            Console.WriteLine($"setup: {settings.Devices} devices bookkept over SFTP, credentials issued, {settings.Devices} TLS MQTT 5 connections in {setup.Elapsed.TotalSeconds:0.0} s");

            // Max Auto Prepare: the 20 ms probe is parsed and planned once.
            await using var db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(settings.Database) { MaxAutoPrepare = 8 }.ConnectionString);
            var rows = new List<Measurement>();
            var phases = new List<Measurement>(); // every measured phase, the warm-up included; checked for loss at the end

            // The same payloads for ours and the baseline; the restart phase needs new keys (serial, signal_date).
            var baseDate = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(long.Parse(runId, CultureInfo.InvariantCulture) % 100_000_000);

            await using (var create = db.CreateCommand($"CREATE TABLE IF NOT EXISTS {BaselineTable} (payload text NOT NULL)"))
                await create.ExecuteNonQueryAsync(cancellationToken);

            // The host is a long-running service: an untimed warm-up lets the JIT settle before the first timed round
            // (the baseline's tools are native code and need none). Every phase gets its own (serial, signal_date) keys.
            if (settings.Warmup)
            {
                var warmupPayloads = devices.Select(d => Payloads(d, baseDate.AddDays(-1), settings.Messages)).ToArray();
                var warmup = await RunOursAsync("warm-up", "ours (warm-up)", settings, devices, warmupPayloads, db, baseDate.AddDays(-1), warmupPayloads.Sum(p => p.Length), null, cancellationToken);
                Console.WriteLine($"warm-up (not counted): {warmup.Value:N0} msg/s, {warmup.Detail}");
                phases.Add(warmup);
            }

            Console.WriteLine($"host settled (JIT quiet) after {(await ProcessCpu.HostSettledAsync(TimeSpan.FromSeconds(90), cancellationToken)).TotalSeconds:0} s");

            // Rounds alternate baseline and ours, so both see the same conditions; the medians are the result.
            var scenario = $"{devices.Count} devices × {settings.Messages} QoS 1";
            for (var round = 1; round <= settings.Rounds; round++)
            {
                var roundDate = baseDate.AddDays(2 * round);
                var payloads = devices.Select(d => Payloads(d, roundDate, settings.Messages)).ToArray();
                var label = settings.Rounds == 1 ? scenario : $"round {round}: {scenario}";
                // Baseline first: the ingester is idle for it (different topic), so it costs the host nothing.
                await using (var truncate = db.CreateCommand($"TRUNCATE {BaselineTable}"))
                    await truncate.ExecuteNonQueryAsync(cancellationToken);
                rows.Add(await RunBaselineAsync(label, settings, devices, payloads, ingesterSecret, $"{runId}-{round}", db, total, cancellationToken));
                rows.Add(await RunOursAsync(label, "ours: TLS → mosquitto → host ingester (COPY, ack after commit)", settings, devices, payloads, db, roundDate, total,
                    null, cancellationToken));
            }
            phases.AddRange(rows);
            if (settings.Rounds > 1)
            {
                static double Median(IEnumerable<double> values)
                {
                    var sorted = values.Order().ToArray();
                    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
                }
                var label = $"median of {settings.Rounds} rounds";
                var baselines = rows.Where(r => r.Server.StartsWith("baseline", StringComparison.Ordinal)).ToList();
                var ourRows = rows.Except(baselines).ToList();
                var ratios = string.Join(", ", ourRows.Zip(baselines, (o, b) => (o.Value / b.Value).ToString("0.00", CultureInfo.InvariantCulture)));
                rows.Add(baselines[0] with { Scenario = label, Value = Median(baselines.Select(b => b.Value)), Detail = "" });
                rows.Add(ourRows[0] with { Scenario = label, Value = Median(ourRows.Select(o => o.Value)), Detail = $"per-round ratios {ratios}" });
            }

            if (settings.RestartPostgres)
            {
                var restartDate = baseDate.AddDays(1);
                var restartPayloads = devices.Select(d => Payloads(d, restartDate, settings.Messages)).ToArray();
                // Compared with the baseline's median when there are rounds.
                var label = settings.Rounds > 1 ? $"median of {settings.Rounds} rounds" : scenario;
                var restart = await RunOursAsync(label, "ours, pg_ctl restart -m fast at 50% published", settings, devices, restartPayloads, db, restartDate, total,
                    () => HostControl.RestartPostgresAsync(settings.PgCtl, settings.PgData, cancellationToken), cancellationToken);
                rows.Add(restart);
                phases.Add(restart);
            }

            var brokerPassed = true;
            if (settings.StopBrokerSeconds > 0)
            {
                var stopDate = baseDate.AddDays(-2);
                var stopPayloads = devices.Select(d => Payloads(d, stopDate, settings.Messages)).ToArray();
                var ackedSeqs = stopPayloads.Select(p => new bool[p.Length]).ToArray();
                var label = settings.Rounds > 1 ? $"median of {settings.Rounds} rounds" : scenario;
                var configFile = BrokerControl.ConfigFile(settings.CaDirectory);
                // Every device's reconnects (Connected after the first CONNACK; argument: Session Present).
                var reconnects = new int[devices.Count];
                var sessionPresent = new int[devices.Count];
                var handlers = devices.Select((device, d) =>
                {
                    void OnConnected(bool present)
                    {
                        Interlocked.Increment(ref reconnects[d]);
                        if (present)
                            Interlocked.Increment(ref sessionPresent[d]);
                    }
                    device.Client.Connected += OnConnected;
                    return (Action<bool>)OnConnected;
                }).ToArray();
                Measurement stop;
                try
                {
                    stop = await RunOursAsync(label, $"ours, mosquitto stopped (SIG{settings.StopBrokerSignal}) {settings.StopBrokerSeconds} s at 50% acked", settings, devices,
                        stopPayloads, db, stopDate, total,
                        () => BrokerControl.StopForAsync(configFile, TimeSpan.FromSeconds(settings.StopBrokerSeconds), settings.StopBrokerSignal, cancellationToken),
                        cancellationToken, ackedSeqs);
                }
                finally
                {
                    for (var d = 0; d < devices.Count; d++)
                        devices[d].Client.Connected -= handlers[d];
                }
                rows.Add(stop);
                Console.WriteLine($"devices reconnected: {reconnects.Count(r => r > 0)}/{devices.Count} ({reconnects.Sum()} reconnects, {sessionPresent.Sum()} with Session Present 1)");
                brokerPassed = await CheckAcknowledgedStoredAsync(db, devices, stopDate, ackedSeqs, cancellationToken);
            }

            Report.Print("telemetry", rows, r => r.Server.StartsWith("baseline", StringComparison.Ordinal),
                "ours ≥ baseline messages/s; at-least-once, zero loss and zero duplicates, also across a PostgreSQL restart");
            // Every measured phase must have lost and duplicated nothing (the median rows carry ratios, not counts).
            // The broker phase is checked apart: QoS 1 allows duplicates after a reconnect, and loss is judged against what
            // was PUBACKed to the devices (CheckAcknowledgedStoredAsync).
            return brokerPassed && phases.All(r => r.Detail.Contains("loss 0,", StringComparison.Ordinal) && r.Detail.Contains("duplicates 0", StringComparison.Ordinal)) ? 0 : 1;
        }
        finally
        {
            foreach (var device in devices)
            {
                try
                {
                    await device.Client.DisconnectAsync(CancellationToken.None);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Console.WriteLine($"{device.Serial}: disconnect failed: {ex.Message}");
                }
                await device.Client.DisposeAsync();
                device.Certificate.Dispose();
                device.Ca.Dispose();
            }
        }
    }

    /// <summary>
    /// Issue 14's resilience check after the broker stop: every message whose PUBACK reached its device is in
    /// telemetry.readings (matched by device_name + the payload's seq, the phase's own signal dates). Prints PASS/FAIL,
    /// the acknowledged, delivered, duplicate and unacknowledged counts, and the first missing keys.
    /// </summary>
    private static async Task<bool> CheckAcknowledgedStoredAsync(NpgsqlDataSource db, IReadOnlyList<Device> devices, DateTimeOffset from, bool[][] ackedSeqs,
        CancellationToken cancellationToken)
    {
        var stored = devices.Select(_ => new Dictionary<long, int>()).ToArray();
        var index = devices.Select((d, i) => (d.DeviceName, i)).ToDictionary(x => x.DeviceName, x => x.i);
        await using (var command = db.CreateCommand(
            "SELECT device_name, metric_values[array_position(metric_names, 'seq')]::bigint FROM telemetry.readings "
            + "WHERE device_name = ANY(@names) AND signal_date >= @from AND signal_date < @to"))
        {
            command.Parameters.AddWithValue("names", devices.Select(d => d.DeviceName).ToArray());
            command.Parameters.AddWithValue("from", from);
            command.Parameters.AddWithValue("to", from.AddHours(1));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var seqs = stored[index[reader.GetInt64(0)]];
                var seq = reader.GetInt64(1);
                seqs[seq] = seqs.GetValueOrDefault(seq) + 1;
            }
        }
        long acknowledged = 0, unacknowledged = 0, missing = 0, unackedButStored = 0;
        var firstMissing = new List<string>();
        for (var d = 0; d < devices.Count; d++)
        {
            for (var seq = 0; seq < ackedSeqs[d].Length; seq++)
            {
                var isStored = stored[d].ContainsKey(seq);
                if (Volatile.Read(ref ackedSeqs[d][seq]))
                {
                    acknowledged++;
                    if (!isStored)
                    {
                        missing++;
                        if (firstMissing.Count < 10)
                            firstMissing.Add($"{devices[d].Serial}#{seq}");
                    }
                }
                else
                {
                    unacknowledged++;
                    if (isStored)
                        unackedButStored++;
                }
            }
        }
        var rows = stored.Sum(s => s.Values.Sum());
        var distinct = stored.Sum(s => s.Count);
        var duplicated = stored.Sum(s => s.Values.Count(c => c > 1));
        Console.WriteLine($"broker stop check: {acknowledged:N0} messages PUBACKed to the devices, {missing:N0} of them missing from telemetry.readings"
            + (firstMissing.Count > 0 ? $" (first: {string.Join(", ", firstMissing)})" : ""));
        Console.WriteLine($"broker stop check: delivered {rows:N0} rows = {distinct:N0} distinct (device, seq) + {rows - distinct:N0} duplicates ({duplicated:N0} keys stored more than once); "
            + $"{unacknowledged:N0} never PUBACKed to their device ({unackedButStored:N0} of those stored anyway)");
        var passed = missing == 0;
        Console.WriteLine(passed ? "PASS: every PUBACKed message is in PostgreSQL" : "FAIL: PUBACKed messages are missing from PostgreSQL");
        return passed;
    }

    private static byte[][] Payloads(Device device, DateTimeOffset start, int count) =>
        [.. Enumerable.Range(0, count).Select(i => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $$"""{"device_id":"{{device.Serial}}","device_name":{{device.DeviceName}},"latitude":{{48.1 + (i % 100) * 0.0001:0.0000}},"longitude":11.57,"battery_level":{{100 - (i / 100 % 100):0}},"signal_date":"{{start.AddMilliseconds(i).UtcDateTime:O}}","seq":{{i}},"temperature":21.5,"signal_strength":-71}""")))];

    /// <summary>
    /// Publishes every device's payloads to its topic leaf, <paramref name="inFlight"/> unacked per device; calls
    /// <paramref name="halfway"/> once half of all are acked. <paramref name="ackedSeqs"/>[device][seq] is set when that
    /// message's PUBACK arrived: only then does it count as acknowledged to the device (QoS 1). While the broker is away
    /// the client keeps the unacked publishes in its session and resends them (DUP) after it reconnected with back-off.
    /// </summary>
    private static async Task PublishAllAsync(IReadOnlyList<Device> devices, byte[][][] payloads, string leaf, int inFlight, Func<Task>? halfway, List<Task> background,
        CancellationToken cancellationToken, bool[][]? ackedSeqs = null)
    {
        var total = payloads.Sum(p => p.Length);
        var acked = 0;
        await Task.WhenAll(devices.Select(async (device, d) =>
        {
            var topic = $"devices/{device.Serial}/{leaf}";
            using var window = new SemaphoreSlim(inFlight);
            var pending = new List<Task>(payloads[d].Length);
            for (var i = 0; i < payloads[d].Length; i++)
            {
                var seq = i; // the payload's "seq"
                await window.WaitAsync(cancellationToken);
                pending.Add(PublishOneAsync(device.Client, topic, payloads[d][i], window, cancellationToken).ContinueWith(t =>
                {
                    if (t.IsCompletedSuccessfully && ackedSeqs is not null)
                        Volatile.Write(ref ackedSeqs[d][seq], true);
                    if (t.IsCompletedSuccessfully && Interlocked.Increment(ref acked) == total / 2 && halfway is not null)
                    {
                        lock (background)
                            background.Add(halfway());
                    }
                    return t;
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap());
            }
            await Task.WhenAll(pending);
        }));
    }

    private static async Task PublishOneAsync(MqttClient client, string topic, byte[] payload, SemaphoreSlim window, CancellationToken cancellationToken)
    {
        try
        {
            await client.PublishAsync(topic, payload, MqttQualityOfService.AtLeastOnce, false, cancellationToken);
        }
        finally
        {
            window.Release();
        }
    }

    private static async Task<Measurement> RunOursAsync(string scenario, string name, TelemetrySettings settings, IReadOnlyList<Device> devices, byte[][][] payloads, NpgsqlDataSource db,
        DateTimeOffset from, int total, Func<Task>? halfway, CancellationToken cancellationToken, bool[][]? ackedSeqs = null)
    {
        // Polling must not load PostgreSQL more than the ingester does: every 20 ms only the last reading of each device is
        // looked up (K index probes, a prepared statement). A device's messages reach the ingester in publish order and are acked in arrival order
        // after their batch commits, so once every last reading is there the full count confirms it; the rows and distinct
        // keys are counted only then (and again at the end, untimed).
        var lastDates = Enumerable.Repeat(from.AddMilliseconds(payloads[0].Length - 1), devices.Count).ToArray();
        var deviceNames = devices.Select(d => d.DeviceName).ToArray();
        async Task<bool> LastReadingsCommittedAsync()
        {
            await using var command = db.CreateCommand(
                "SELECT count(*) FROM unnest(@names, @dates) AS last(device_name, signal_date) "
                + "WHERE EXISTS (SELECT 1 FROM telemetry.readings r WHERE r.device_name = last.device_name AND r.signal_date = last.signal_date)");
            command.Parameters.AddWithValue("names", deviceNames);
            command.Parameters.AddWithValue("dates", lastDates);
            return (long)(await command.ExecuteScalarAsync(cancellationToken))! == devices.Count;
        }

        async Task<(long Count, long Distinct)> CountAsync()
        {
            await using var command = db.CreateCommand(
                "SELECT count(*), count(DISTINCT (device_name, metric_values[array_position(metric_names, 'seq')])) FROM telemetry.readings "
                + "WHERE device_name = ANY(@names) AND signal_date >= @from AND signal_date < @to");
            command.Parameters.AddWithValue("names", deviceNames);
            command.Parameters.AddWithValue("from", from);
            command.Parameters.AddWithValue("to", from.AddHours(1));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return (reader.GetInt64(0), reader.GetInt64(1));
        }

        var background = new List<Task>();
        var cpu = ProcessCpu.Snapshot();
        var watch = Stopwatch.StartNew();
        var publish = PublishAllAsync(devices, payloads, "telemetry", settings.InFlight, halfway, background, cancellationToken, ackedSeqs);
        TimeSpan? published = null;
        var last = (Count: 0L, Distinct: 0L);
        var errors = 0;
        var deadline = TimeSpan.FromSeconds(settings.TimeoutSeconds);
        TimeSpan? elapsed = null;
        ProcessCpu? cpuAtEnd = null;
        while (watch.Elapsed < deadline)
        {
            if (published is null && publish.IsCompleted)
            {
                await publish;
                published = watch.Elapsed;
            }
            try
            {
                if (await LastReadingsCommittedAsync())
                {
                    var seen = watch.Elapsed;
                    var cpuSeen = ProcessCpu.Snapshot(); // before the counting query, whose cost is the load test's
                    last = await CountAsync();
                    // Distinct keys, not rows: a duplicate (QoS 1 redelivery after a reconnect) must not hide a missing one.
                    if (last.Distinct >= total && published is not null)
                    {
                        elapsed = seen;
                        cpuAtEnd = cpuSeen;
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException)
            {
                // PostgreSQL restarting: the poller only waits, like the ingester retries.
                errors++;
                NpgsqlConnection.ClearAllPools();
            }
            await Task.Delay(20, cancellationToken);
        }
        elapsed ??= watch.Elapsed;
        var cpuUsed = (cpuAtEnd ?? ProcessCpu.Snapshot()).PerMessageSince(cpu, total);
        if (last.Distinct < total)
            last = await CountAsync();
        if (published is null)
            Console.WriteLine($"{name}: publishing did not finish within {settings.TimeoutSeconds} s");
        Task[] extra;
        lock (background)
            extra = [.. background];
        await Task.WhenAll(extra);
        var loss = total - last.Distinct;
        var duplicates = last.Count - last.Distinct;
        return new Measurement(scenario, name, "our MqttClient (TLS, client cert)", last.Count / elapsed.Value.TotalSeconds, "msg/s",
            $"loss {loss}, duplicates {duplicates} ({last.Count}/{total} rows, {last.Distinct} distinct keys), last PUBACK {published?.TotalSeconds:0.00} s, last row {elapsed.Value.TotalSeconds:0.00} s"
            + (errors > 0 ? $", {errors} failed count polls" : "") + $"; {cpuUsed}");
    }

    private static async Task<Measurement> RunBaselineAsync(string scenario, TelemetrySettings settings, IReadOnlyList<Device> devices, byte[][][] payloads, string ingesterSecret, string runId,
        NpgsqlDataSource db, int total, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(settings.Database);
        var psqlUrl = $"postgresql://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
        // mosquitto_sub exits after `total` messages (-C), which ends psql's stdin, and COPY commits. A lost message
        // leaves it waiting until the timeout, when it is killed and COPY commits what arrived.
        var script = $"mosquitto_sub -h 127.0.0.1 -p {settings.InternalPort} -u \"$LT_USER\" -P \"$LT_PASS\" -i lt-baseline-{runId} -q 1 "
            + $"-t 'devices/+/{BaselineLeaf}' -F '%p' -C {total} -W {settings.TimeoutSeconds} "
            + $"| psql -q -v ON_ERROR_STOP=1 '{psqlUrl}' -c 'COPY {BaselineTable} (payload) FROM STDIN'";
        var psi = new ProcessStartInfo("bash", ["-c", script]) { UseShellExecute = false, RedirectStandardError = true };
        psi.Environment["LT_USER"] = "nms-ingester";
        psi.Environment["LT_PASS"] = ingesterSecret;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("bash did not start");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await WaitForSubscriberAsync(settings, runId, cancellationToken);

        var cpu = ProcessCpu.Snapshot();
        var watch = Stopwatch.StartNew();
        await PublishAllAsync(devices, payloads, BaselineLeaf, settings.InFlight, null, [], cancellationToken);
        var published = watch.Elapsed;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds + 5));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        var elapsed = watch.Elapsed;
        var cpuUsed = ProcessCpu.Snapshot().PerMessageSince(cpu, total);
        var errors = (await stderr).Trim();
        if (errors.Length > 0)
            Console.WriteLine($"baseline stderr: {errors}");

        await using var command = db.CreateCommand($"SELECT count(*), count(DISTINCT payload) FROM {BaselineTable}");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var count = reader.GetInt64(0);
        var distinct = reader.GetInt64(1);
        return new Measurement(scenario, "baseline: mosquitto_sub -q 1 | psql COPY (plain table)", "our MqttClient (TLS, client cert)",
            count / elapsed.TotalSeconds, "msg/s",
            $"loss {total - count}, duplicates {count - distinct} ({count}/{total} rows, {distinct} distinct payloads), last PUBACK {published.TotalSeconds:0.00} s, COPY committed {elapsed.TotalSeconds:0.00} s, exit {process.ExitCode}; {cpuUsed}");
    }

    /// <summary>Waits until mosquitto has our baseline subscriber's client id among its connected clients (its log), or 3 s.</summary>
    private static async Task WaitForSubscriberAsync(TelemetrySettings settings, string runId, CancellationToken cancellationToken)
    {
        // run.sh's layout: .data/keys/telemetry-ca and .data/broker.
        var log = Path.GetFullPath(Path.Combine(settings.CaDirectory, "..", "..", "broker", "mosquitto.log"));
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(3))
        {
            if (File.Exists(log))
            {
                await using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var text = new StreamReader(stream);
                if ((await text.ReadToEndAsync(cancellationToken)).Contains($"lt-baseline-{runId}", StringComparison.Ordinal))
                    break;
            }
            await Task.Delay(50, cancellationToken);
        }
        await Task.Delay(300, cancellationToken); // connected is logged before SUBSCRIBE; give it a moment
    }

    /// <summary>Sign-up, manufacturer + factory CA, and one device-record document with every serial through the SFTP drop.</summary>
    private static async Task<NmsTenant> BookkeepAsync(Uri url, int sftpPort, string runId, IReadOnlyList<string> serials, CancellationToken cancellationToken)
    {
        var tenant = await NmsTenant.SignUpAsync(url, "Telemetry LoadTest " + runId, "Telemetry Acme " + runId, cancellationToken);
        try
        {
            var document = FactoryAuthority.Document(serials.Select(s => FactoryAuthority.Device(s, tenant.CustomerId, tenant.Ca.IssueDevicePem(s))));
            await using var session = await OurSftp.ConnectAsync(sftpPort, tenant.SftpOptions, cancellationToken);
            using var source = new MemoryStream(document, writable: false);
            await session.Client.UploadAsync($"/incoming/telemetry-lt-{runId}.xml", source, cancellationToken);
            return tenant;
        }
        catch
        {
            tenant.Dispose();
            throw;
        }
    }

    private static async Task<Device> IssueAndConnectAsync(HttpClient http, string adminKey, string serial, int devicePort, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/devices/{serial}/telemetry-credential");
        request.Headers.Add("X-Admin-Key", adminKey);
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"issuing {serial}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        var credential = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var certificate = X509Certificate2.CreateFromPem(credential.GetProperty("certificate_pem").GetString(), credential.GetProperty("private_key_pem").GetString());
        var ca = X509Certificate2.CreateFromPem(credential.GetProperty("ca_certificate_pem").GetString());
        var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1",
            Port = devicePort,
            ClientId = serial,
            ProtocolVersion = MqttProtocolVersion.V500,
            Tls = new MqttTlsOptions { ClientCertificate = certificate, TrustedCertificateAuthorities = [ca], TargetHost = "127.0.0.1" },
        });
        await client.ConnectAsync(cancellationToken);
        return new Device(serial, credential.GetProperty("device_name").GetInt64(), client, certificate, ca);
    }
}
