using System.CommandLine;
using Onboarding.LoadTest;
using Onboarding.Ssh;

// End-to-end load tools. Each subcommand runs ours and a baseline in the same run, prints one
// table, and exits on its own after bounded counts or time. See bench/README.md.
var root = new RootCommand("Onboarding end-to-end load tests (ours vs baseline, same run)");

var clients = new Option<int>("--clients") { Description = "concurrent clients (1 or 8)", DefaultValueFactory = _ => 1 };
var seconds = new Option<int>("--seconds") { Description = "measurement time per server", DefaultValueFactory = _ => 10 };
var exec = new Option<bool>("--exec") { Description = "open a session and exec \"true\" after auth (false: disconnect right after auth)", DefaultValueFactory = _ => true };
var handshakes = new Command("ssh-handshakes", "handshake + auth + exec \"true\" + close per second: our server vs sshd, our client") { clients, seconds, exec };
handshakes.SetAction((r, ct) => SshHandshakeTest.RunAsync(r.GetValue(clients), r.GetValue(seconds), r.GetValue(exec), ct));
root.Subcommands.Add(handshakes);

var megabytes = new Option<int>("--megabytes") { Description = "MiB to transfer per run", DefaultValueFactory = _ => 1024 };
var cipher = new Option<string[]>("--cipher")
{
    Description = "cipher(s); repeat for several",
    DefaultValueFactory = _ => [SshAlgorithms.ChaCha20Poly1305, SshAlgorithms.Aes128Gcm, SshAlgorithms.Aes256Ctr],
    AllowMultipleArgumentsPerToken = true,
};
var openSsh = new Option<bool>("--openssh-client") { Description = "also run OpenSSH's ssh/sftp client against both servers", DefaultValueFactory = _ => true };
var rekey = new Option<int>("--rekey-megabytes") { Description = "RekeyBytes for our client and server (library default 1024)", DefaultValueFactory = _ => 1024 };
var throughput = new Command("ssh-throughput", "bulk channel MiB/s per cipher: our server vs sshd, our client") { megabytes, cipher, openSsh, rekey };
throughput.SetAction((r, ct) => SshThroughputTest.RunAsync(r.GetValue(megabytes), r.GetValue(cipher)!, r.GetValue(openSsh), r.GetValue(rekey), ct));
root.Subcommands.Add(throughput);

var sftpMegabytes = new Option<int>("--megabytes") { Description = "MiB in the one upload", DefaultValueFactory = _ => 256 };
var sftpCipher = new Option<string>("--cipher") { Description = "cipher for both clients", DefaultValueFactory = _ => SshAlgorithms.Aes128Gcm };
var sftpOpenSsh = new Option<bool>("--openssh-client") { Description = "also run OpenSSH's sftp client against both servers", DefaultValueFactory = _ => true };
var sftpThroughput = new Command("sftp-throughput", "one SFTP upload MiB/s: our SshServerSession+SftpServer vs sshd internal-sftp") { sftpMegabytes, sftpCipher, sftpOpenSsh };
sftpThroughput.SetAction((r, ct) => SftpThroughputTest.RunAsync(r.GetValue(sftpMegabytes), r.GetValue(sftpCipher)!, r.GetValue(sftpOpenSsh), ct));
root.Subcommands.Add(sftpThroughput);

var records = new Option<int>("--records") { Description = "device records per layout", DefaultValueFactory = _ => 10_000 };
var url = new Option<string>("--url") { Description = "the running host's HTTP base address", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
var sftpPort = new Option<int>("--sftp-port") { Description = "the running host's SFTP drop port", DefaultValueFactory = _ => 2222 };
var perFile = new Option<int[]>("--records-per-file")
{
    Description = "layouts to run, as records per file (100 → 100 files × 100 records)",
    DefaultValueFactory = _ => [100, 1],
    AllowMultipleArgumentsPerToken = true,
};
var parallel = new Option<int>("--parallel") { Description = "files in flight on the one SFTP session", DefaultValueFactory = _ => 8 };
var sftpRecords = new Command("sftp-records", "records bookkept per second through a running host's SFTP drop vs raw sftp-server") { records, url, sftpPort, perFile, parallel };
sftpRecords.SetAction((r, ct) => SftpRecordsTest.RunAsync(new Uri(r.GetValue(url)!), r.GetValue(sftpPort), r.GetValue(records), r.GetValue(perFile)!, r.GetValue(parallel), ct));
root.Subcommands.Add(sftpRecords);

var dropFiles = new Option<int>("--files") { Description = "single-record files to upload", DefaultValueFactory = _ => 10_000 };
var dropParallel = new Option<int[]>("--parallel") { Description = "files in flight on the one session (one pair of rows each)", DefaultValueFactory = _ => [64], AllowMultipleArgumentsPerToken = true };
var dropHostPid = new Option<int?>("--host-pid") { Description = "the host's process id: its CPU per file" };
var dropPgData = new Option<string?>("--pg-data") { Description = "the host's PostgreSQL data directory (e.g. .data/pg): the cluster's CPU per file" };
var dropUrl = new Option<string>("--url") { Description = "the running host's HTTP base address", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
var dropSftpPort = new Option<int>("--sftp-port") { Description = "the running host's SFTP drop port", DefaultValueFactory = _ => 2222 };
var sftpDrop = new Command("sftp-drop", "single-record files/s through a running host's drop on one session vs OpenSSH sftp-server under sshd") { dropUrl, dropSftpPort, dropFiles, dropParallel, dropHostPid, dropPgData };
sftpDrop.SetAction((r, ct) => SftpDropTest.RunAsync(new Uri(r.GetValue(dropUrl)!), r.GetValue(dropSftpPort), r.GetValue(dropFiles), r.GetValue(dropParallel)!, r.GetValue(dropHostPid), r.GetValue(dropPgData), ct));
root.Subcommands.Add(sftpDrop);

var files = new Option<int>("--files") { Description = "files to upload", DefaultValueFactory = _ => 200 };
var closeDelay = new Option<int>("--close-delay-ms") { Description = "time each CLOSE takes on the server", DefaultValueFactory = _ => 10 };
var parallels = new Option<int[]>("--parallel") { Description = "files in flight; first value is the baseline", DefaultValueFactory = _ => [1, 8], AllowMultipleArgumentsPerToken = true };
var sftpFiles = new Command("sftp-files", "small files over one session with a slow CLOSE: do CLOSEs of different files overlap?") { files, closeDelay, parallels };
sftpFiles.SetAction((r, ct) => SftpFilesTest.RunAsync(r.GetValue(files), r.GetValue(closeDelay), r.GetValue(parallels)!, ct));
root.Subcommands.Add(sftpFiles);

var tUrl = new Option<string>("--url") { Description = "the running host's HTTP base address", DefaultValueFactory = _ => "http://127.0.0.1:28080" };
var tSftpPort = new Option<int>("--sftp-port") { Description = "the running host's SFTP drop port (device records are bookkept through it)", DefaultValueFactory = _ => 22222 };
var tDb = new Option<string>("--database") { Description = "the host's PostgreSQL (Npgsql connection string)", DefaultValueFactory = _ => "Host=127.0.0.1;Port=25432;Username=postgres;Database=onboarding" };
var tAdminKey = new Option<string>("--admin-key-file") { Description = "file holding X-Admin-Key (run.sh writes it)", DefaultValueFactory = _ => ".data/telemetry-admin-key" };
var tCaDir = new Option<string>("--ca-directory") { Description = "Telemetry:CaDirectory (ingester.secret for the baseline's mosquitto_sub); run.sh keeps it in the key store", DefaultValueFactory = _ => ".data/keys/telemetry-ca" };
var tDevicePort = new Option<int>("--device-port") { Description = "mosquitto's device TLS listener", DefaultValueFactory = _ => 28883 };
var tInternalPort = new Option<int>("--internal-port") { Description = "mosquitto's internal listener (ingester, baseline mosquitto_sub)", DefaultValueFactory = _ => 21884 };
var tDevices = new Option<int>("--devices") { Description = "simulated devices (K)", DefaultValueFactory = _ => 20 };
var tMessages = new Option<int>("--messages") { Description = "QoS 1 messages per device (N)", DefaultValueFactory = _ => 10_000 };
var tInFlight = new Option<int>("--in-flight") { Description = "unacknowledged publishes per device", DefaultValueFactory = _ => 16 };
var tRestart = new Option<bool>("--restart-postgres") { Description = "third phase: pg_ctl restart -m fast of the host's cluster at 50% published" };
var tPgData = new Option<string>("--pg-data") { Description = "the host's cluster directory", DefaultValueFactory = _ => ".data/pg" };
var tPgCtl = new Option<string>("--pg-ctl") { Description = "pg_ctl binary (run as user postgres when we are root)", DefaultValueFactory = _ => "pg_ctl" };
var tTimeout = new Option<int>("--timeout-seconds") { Description = "per phase, from first publish", DefaultValueFactory = _ => 120 };
var tRounds = new Option<int>("--rounds") { Description = "baseline/ours pairs; the medians are the result", DefaultValueFactory = _ => 5 };
var tWarmup = new Option<bool>("--warmup") { Description = "an untimed warm-up round through the host first (K × N)", DefaultValueFactory = _ => true };
var tStopBroker = new Option<int>("--stop-broker-for") { Description = "resilience phase: mosquitto stopped this many seconds at 50% acked, restarted with its config (run.sh's); every PUBACKed message is then checked in PostgreSQL (0 = off)" };
var tStopSignal = new Option<string>("--stop-broker-signal") { Description = "how mosquitto is stopped: TERM (writes its persistence file) or KILL (a crash)", DefaultValueFactory = _ => "TERM" };
tStopSignal.AcceptOnlyFromAmong("TERM", "KILL");
var telemetry = new Command("telemetry", "QoS 1 telemetry msg/s through a running host's broker + ingester (COPY, ack after commit) vs mosquitto_sub | psql COPY")
    { tUrl, tSftpPort, tDb, tAdminKey, tCaDir, tDevicePort, tInternalPort, tDevices, tMessages, tInFlight, tRestart, tPgData, tPgCtl, tTimeout, tRounds, tWarmup, tStopBroker, tStopSignal };
telemetry.SetAction((r, ct) => TelemetryTest.RunAsync(new TelemetrySettings(new Uri(r.GetValue(tUrl)!), r.GetValue(tSftpPort), r.GetValue(tDb)!, r.GetValue(tAdminKey)!,
    r.GetValue(tCaDir)!, r.GetValue(tDevicePort), r.GetValue(tInternalPort), r.GetValue(tDevices), r.GetValue(tMessages), r.GetValue(tInFlight),
    r.GetValue(tRestart), r.GetValue(tPgData)!, r.GetValue(tPgCtl)!, r.GetValue(tTimeout), r.GetValue(tRounds), r.GetValue(tWarmup),
    r.GetValue(tStopBroker), r.GetValue(tStopSignal)!), ct));
root.Subcommands.Add(telemetry);

var bDevices = new Option<int>("--devices") { Description = "simulated devices (certificates), used round-robin", DefaultValueFactory = _ => 200 };
var bConcurrency = new Option<int>("--concurrency") { Description = "requests in flight", DefaultValueFactory = _ => 16 };
var bSeconds = new Option<int>("--seconds") { Description = "measurement time per server", DefaultValueFactory = _ => 10 };
var bServerKey = new Option<string[]>("--server-key")
{
    Description = "TLS server key(s): rsa3072, rsa2048, p256; repeat for several",
    DefaultValueFactory = _ => ["rsa3072"],
    AllowMultipleArgumentsPerToken = true,
};
var bTls = new Option<string[]>("--tls") { Description = "TLS version(s) the devices offer: 13, 12", DefaultValueFactory = _ => ["13"], AllowMultipleArgumentsPerToken = true };
var bServerProcess = new Option<bool>("--server-process") { Description = "run each server in its own process (bootstrap-server) and report its CPU apart from the client's" };
var bOursBefore = new Option<string?>("--ours-before") { Description = "with --server-process: also run ours from another build of this tool (its Onboarding.LoadTest.dll), e.g. before a change" };
var bUrl = new Option<string?>("--url") { Description = "also drive a running host's bootstrap server (https://host:port)" };
var bootstrap = new Command("bootstrap", "get-bootstrapping-data/s, new TLS connection with client certificate per request: BootstrapServerEndpoint vs Kestrel answering 204")
    { bDevices, bConcurrency, bSeconds, bServerKey, bTls, bServerProcess, bOursBefore, bUrl };
bootstrap.SetAction((r, ct) => BootstrapTest.RunAsync(r.GetValue(bDevices), r.GetValue(bConcurrency), r.GetValue(bSeconds), r.GetValue(bServerKey)!,
    r.GetValue(bTls)!, r.GetValue(bServerProcess), r.GetValue(bOursBefore), r.GetValue(bUrl) is { } u ? new Uri(u) : null, ct));
root.Subcommands.Add(bootstrap);

var sKind = new Option<string>("--kind") { Description = "baseline (Kestrel answering 204) or ours (BootstrapServerEndpoint)", DefaultValueFactory = _ => "ours" };
var sServerKey = new Option<string>("--server-key") { Description = "TLS server key: rsa3072, rsa2048 or p256", DefaultValueFactory = _ => "rsa3072" };
var sChain = new Option<string>("--chain") { Description = "baseline only: system (SslStream's default chain build) or custom (a policy without the system store)", DefaultValueFactory = _ => "system" };
var bootstrapServer = new Command("bootstrap-server", "serve get-bootstrapping-data on a free loopback port; prints READY <port> <certificate SHA-1>, runs until stdin closes")
    { sKind, sServerKey, sChain };
bootstrapServer.SetAction((r, ct) => BootstrapServerProcess.ServeAsync(r.GetValue(sKind)!, r.GetValue(sServerKey)!, r.GetValue(sChain)!, ct));
root.Subcommands.Add(bootstrapServer);

var hUrl = new Option<string>("--url") { Description = "the running host's HTTP base address (roles Nms and Redirect)", DefaultValueFactory = _ => "http://127.0.0.1:18180" };
var hRedirectPort = new Option<int>("--redirect-port") { Description = "the host's redirect bootstrap port (Redirect:Bootstrap:Port)", DefaultValueFactory = _ => 18444 };
var hSftpPort = new Option<int>("--sftp-port") { Description = "the host's NMS SFTP drop port (Drop:Port)", DefaultValueFactory = _ => 12322 };
var hDevices = new Option<int>("--devices") { Description = "devices in the burst (orders, certificates)", DefaultValueFactory = _ => 10_000 };
var hConcurrency = new Option<int>("--concurrency") { Description = "devices asking at once (each a new TLS connection)", DefaultValueFactory = _ => 64 };
var hParallel = new Option<int>("--parallel") { Description = "baseline: single-record files in flight on the one SFTP session", DefaultValueFactory = _ => 8 };
var hBaseline = new Option<bool>("--baseline") { Description = "also run the baseline (N single-record files to the drop)", DefaultValueFactory = _ => true };
var hTimeout = new Option<int>("--timeout-seconds") { Description = "give up on the burst after this long", DefaultValueFactory = _ => 600 };
var hHostPid = new Option<int?>("--host-pid") { Description = "the host's process id: report its CPU per device" };
var handoffBurst = new Command("handoff-burst", "N devices at a running host's redirect server, handed off to its NMS in batched SFTP files, vs N single-record files to the drop")
    { hUrl, hRedirectPort, hSftpPort, hDevices, hConcurrency, hParallel, hBaseline, hTimeout, hHostPid };
handoffBurst.SetAction((r, ct) => HandoffBurstTest.RunAsync(new HandoffBurstSettings(new Uri(r.GetValue(hUrl)!), r.GetValue(hRedirectPort), r.GetValue(hSftpPort),
    r.GetValue(hDevices), r.GetValue(hConcurrency), r.GetValue(hParallel), r.GetValue(hBaseline), r.GetValue(hTimeout), r.GetValue(hHostPid)), ct));
root.Subcommands.Add(handoffBurst);
var nUrl = new Option<string>("--url") { Description = "the running host's HTTP base address", DefaultValueFactory = _ => "http://127.0.0.1:18080" };
var nEvents = new Option<int>("--events") { Description = "test events (one webhook delivery each)", DefaultValueFactory = _ => 500 };
var nConcurrency = new Option<int>("--concurrency") { Description = "API calls / direct POSTs in flight", DefaultValueFactory = _ => 8 };
var nTimeout = new Option<int>("--timeout-seconds") { Description = "per phase", DefaultValueFactory = _ => 300 };
var notifications = new Command("notifications", "owner notifications delivered/s through a running host's outbox to a local webhook vs the same POSTs made directly")
    { nUrl, nEvents, nConcurrency, nTimeout };
notifications.SetAction((r, ct) => NotificationsTest.RunAsync(new Uri(r.GetValue(nUrl)!), r.GetValue(nEvents), r.GetValue(nConcurrency), r.GetValue(nTimeout), ct));
root.Subcommands.Add(notifications);

var cUrl = new Option<string>("--url") { Description = "the running host's HTTP base address (role Nms)", DefaultValueFactory = _ => "http://127.0.0.1:18380" };
var cSftpPort = new Option<int>("--sftp-port") { Description = "the host's SFTP drop port (the device records are bookkept through it)", DefaultValueFactory = _ => 12422 };
var cCallHomePort = new Option<int>("--callhome-port") { Description = "the host's call-home port (Nms:CallHomePort)", DefaultValueFactory = _ => 14334 };
var cDevices = new Option<int>("--devices") { Description = "devices calling home and held (N); 0 runs only the baseline", DefaultValueFactory = _ => 1_000 };
var cConcurrency = new Option<int>("--concurrency") { Description = "devices (or ssh processes) connecting at once", DefaultValueFactory = _ => 32 };
var cIdle = new Option<int>("--idle-seconds") { Description = "how long all sessions are held idle", DefaultValueFactory = _ => 60 };
var cHostPid = new Option<int?>("--host-pid") { Description = "the host's process id: its CPU and RSS" };
var cPgData = new Option<string>("--pg-data") { Description = "the host's PostgreSQL data directory (its cluster's CPU is counted)", DefaultValueFactory = _ => ".data/pg" };
var cNmsKey = new Option<string>("--nms-key-file") { Description = "the host's call-home client key (the devices authorize its public half)", DefaultValueFactory = _ => ".data/keys/nms-identity/call-home_ed25519_key" };
var cUser = new Option<string>("--user") { Description = "the call-home user (Nms:Bootstrap:CallHomeUser)", DefaultValueFactory = _ => "onboarding-nms" };
var cBaseline = new Option<int>("--baseline-sessions") { Description = "OpenSSH ssh processes in the baseline (M); 0 skips it", DefaultValueFactory = _ => 200 };
var cAlive = new Option<int>("--server-alive-interval") { Description = "the baseline ssh's ServerAliveInterval (0: none)", DefaultValueFactory = _ => 0 };
var cHostAlive = new Option<int>("--host-keepalive-seconds") { Description = "the host's Nms:CallHome:KeepaliveInterval as it was started (reported, and the idle CPU divided by the keepalives it implies); 0: not stated", DefaultValueFactory = _ => 0 };
var cTimeout = new Option<int>("--timeout-seconds") { Description = "per session, and for the host to list them all", DefaultValueFactory = _ => 300 };
var callHome = new Command("callhome", "call-home sessions established/s against a running host and the cost of holding them idle, vs OpenSSH ssh against the same kind of devices")
    { cUrl, cSftpPort, cCallHomePort, cDevices, cConcurrency, cIdle, cHostPid, cPgData, cNmsKey, cUser, cBaseline, cAlive, cHostAlive, cTimeout };
callHome.SetAction((r, ct) => CallHomeTest.RunAsync(new CallHomeSettings(new Uri(r.GetValue(cUrl)!), r.GetValue(cSftpPort), r.GetValue(cCallHomePort),
    r.GetValue(cDevices), r.GetValue(cConcurrency), r.GetValue(cIdle), r.GetValue(cHostPid), r.GetValue(cPgData)!, r.GetValue(cNmsKey)!, r.GetValue(cUser)!,
    r.GetValue(cBaseline), r.GetValue(cAlive), r.GetValue(cHostAlive), r.GetValue(cTimeout)), ct));
root.Subcommands.Add(callHome);

var oUrl = new Option<string>("--url") { Description = "the running host's HTTP base address (roles Nms and Redirect; loopback webhooks allowed)", DefaultValueFactory = _ => "http://127.0.0.1:18680" };
var oRedirectPort = new Option<int>("--redirect-port") { Description = "the host's redirect bootstrap port (Redirect:Bootstrap:Port)", DefaultValueFactory = _ => 18644 };
var oSftpPort = new Option<int>("--sftp-port") { Description = "the host's NMS SFTP drop port (Drop:Port), written into the hand-off bundle", DefaultValueFactory = _ => 12622 };
var oDevices = new Option<int>("--devices") { Description = "devices (orders, IDevIDs) taken from power-on to Onboarded", DefaultValueFactory = _ => 1_000 };
var oConcurrency = new Option<int>("--concurrency") { Description = "devices bootstrapping at once (DeviceSim -c)", DefaultValueFactory = _ => 64 };
var oStay = new Option<bool>("--stay") { Description = "devices keep their call-home session after onboarding (DeviceSim --stay; then all call home at once)", DefaultValueFactory = _ => true };
var oCallHomeConcurrency = new Option<int>("--callhome-concurrency") { Description = "without --stay: devices calling home at once", DefaultValueFactory = _ => 64 };
var oHostPid = new Option<int>("--host-pid") { Description = "the host's process id (CPU, RSS; the process --kill-host-at kills and starts again)", Required = true };
var oPgData = new Option<string>("--pg-data") { Description = "the host's PostgreSQL data directory (its cluster's CPU; --restart-postgres-at)", DefaultValueFactory = _ => ".data/pg" };
var oPgCtl = new Option<string>("--pg-ctl") { Description = "pg_ctl binary (run as user postgres when we are root)", DefaultValueFactory = _ => "/usr/lib/postgresql/15/bin/pg_ctl" };
var oDeviceSim = new Option<string>("--devicesim") { Description = "Onboarding.DeviceSim.dll (built with -c Release)", DefaultValueFactory = _ => "tools/Onboarding.DeviceSim/bin/Release/net10.0/Onboarding.DeviceSim.dll" };
var oKill = new Option<string?>("--kill-host-at") { Description = "kill -9 the host and start it again (same command line) at '<seconds>s' after the devices start, or at a fraction (0..1) of devices Onboarded" };
var oRestartPg = new Option<string?>("--restart-postgres-at") { Description = "pg_ctl restart -m fast of the host's cluster at '<seconds>s' or a fraction of devices Onboarded" };
var oTimeout = new Option<int>("--timeout-seconds") { Description = "the bound: give up waiting for all Onboarded and notified after this long", DefaultValueFactory = _ => 600 };
var oBaseline = new Option<bool>("--baseline") { Description = "also run the baseline (TLS handshakes against Kestrel 204, OpenSSH ssh logins)", DefaultValueFactory = _ => true };
var oBaselineSessions = new Option<int>("--baseline-sessions") { Description = "OpenSSH ssh logins in the baseline; 0 skips them", DefaultValueFactory = _ => 200 };
var oWork = new Option<string>("--work-directory") { Description = "where the devices' IDevIDs and state files and the logs go (onboard-<run>/)", DefaultValueFactory = _ => Path.GetTempPath() };
var oNmsKey = new Option<string>("--nms-key-file") { Description = "the host's call-home client key (for the ssh baseline's key type only)", DefaultValueFactory = _ => ".data/keys/nms-identity/call-home_ed25519_key" };
var onboard = new Command("onboard", "N devices from power-on to Onboarded and notified through a running host (DeviceSim onboard as its own process), with optional host kill / PostgreSQL restart")
    { oUrl, oRedirectPort, oSftpPort, oDevices, oConcurrency, oStay, oCallHomeConcurrency, oHostPid, oPgData, oPgCtl, oDeviceSim, oKill, oRestartPg, oTimeout, oBaseline, oBaselineSessions, oWork, oNmsKey };
onboard.SetAction((r, ct) => OnboardTest.RunAsync(new OnboardSettings(new Uri(r.GetValue(oUrl)!), r.GetValue(oRedirectPort), r.GetValue(oSftpPort), r.GetValue(oDevices),
    r.GetValue(oConcurrency), r.GetValue(oStay), r.GetValue(oCallHomeConcurrency), r.GetValue(oHostPid), r.GetValue(oPgData)!, r.GetValue(oPgCtl)!, Path.GetFullPath(r.GetValue(oDeviceSim)!),
    r.GetValue(oKill), r.GetValue(oRestartPg), r.GetValue(oTimeout), r.GetValue(oBaseline), r.GetValue(oBaselineSessions), r.GetValue(oWork)!, r.GetValue(oNmsKey)!), ct));
root.Subcommands.Add(onboard);

return await root.Parse(args).InvokeAsync();
