using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.CallHome.Listener;
using Onboarding.Inventory.Api;
using Onboarding.Inventory.Contracts;
using Onboarding.Netconf;
using Onboarding.Netconf.Datastore;
using Onboarding.NmsBootstrap.Contracts;
using Onboarding.Provisioning.Contracts;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// The host with its call-home listener on a free loopback port, logging in to devices as the user the tests run as
/// (sshd needs a real account), and a test <see cref="IPreconfiguration"/> that proves the handed-over session works: it
/// opens the device's "netconf" subsystem, reads the running configuration and reports what it got.
/// </summary>
public class CallHomeFactory : OnboardingFactory
{
    public CallHomeFactory()
    {
        // A probe that never reports names what the host said about call home meanwhile.
        Probe = new PreconfigurationProbe(() => string.Join("\n", Logs.RenderedMessages.Where(m => m.Contains("all home", StringComparison.Ordinal)
            || m.Contains("all-home", StringComparison.Ordinal) || m.Contains("re-configuration", StringComparison.Ordinal))));
        With("Nms:CallHome:ListenPort", "0");
        With("Nms:CallHome:ListenAddress", "127.0.0.1");
        With("Nms:Bootstrap:CallHomeUser", Environment.UserName);
    }

    public PreconfigurationProbe Probe { get; }

    public int CallHomePort => Services.GetRequiredService<CallHomeListener>().BoundEndpoint.WaitAsync(TimeSpan.FromSeconds(10)).Result.Port;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services =>
        {
            services.AddSingleton(Probe);
            services.AddScoped<IPreconfiguration, NetconfGetConfigPreconfiguration>();
        });
    }
}

/// <summary>What the test pre-configuration saw, per device.</summary>
/// <param name="hostLog">The host's call-home log so far, for the message of a wait that timed out.</param>
public sealed class PreconfigurationProbe(Func<string> hostLog)
{
    private readonly ConcurrentDictionary<DeviceId, TaskCompletionSource<ProbeResult>> _results = new();
    private readonly ConcurrentDictionary<DeviceId, byte> _throwOnce = new();

    /// <summary>The device's next pre-configuration throws, as the NMS's own failure would (not the device's answer).</summary>
    public void ThrowOnce(DeviceId deviceId) => _throwOnce[deviceId] = 0;

    internal bool TakeThrow(DeviceId deviceId) => _throwOnce.TryRemove(deviceId, out _);

    public async Task<ProbeResult> ResultAsync(DeviceId deviceId)
    {
        try
        {
            return await _results.GetOrAdd(deviceId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no pre-configuration of device {deviceId} reported within 90 s; call-home log:\n{hostLog()}");
        }
    }

    internal void Report(DeviceId deviceId, ProbeResult result) =>
        _results.GetOrAdd(deviceId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(result);
}

/// <param name="State">The device's state when pre-configuration was handed the session.</param>
/// <param name="Capabilities">The device's NETCONF capabilities (from its hello).</param>
/// <param name="RunningConfiguration">The &lt;data&gt; of get-config on running, or the error.</param>
public sealed record ProbeResult(DeviceState State, bool Succeeded, IReadOnlyList<string> Capabilities, string RunningConfiguration);

/// <summary>A stand-in for the real pre-configuration: one NETCONF exchange over the session call home hands over.</summary>
internal sealed class NetconfGetConfigPreconfiguration(PreconfigurationProbe probe) : IPreconfiguration
{
    public async Task<PreconfigurationOutcome> ApplyAsync(DeviceIdentity device, SshClientSession session, string source, CancellationToken cancellationToken)
    {
        if (probe.TakeThrow(device.Id))
            throw new TimeoutException("simulated: the connection pool was exhausted");
        try
        {
            var channel = await session.OpenSessionAsync(cancellationToken);
            if (!await channel.RequestSubsystemAsync("netconf", cancellationToken))
                throw new InvalidOperationException("the device refused the netconf subsystem");
            using var netconf = await NetconfClientSession.ConnectAsync(channel.AsStream(), cancellationToken: cancellationToken);
            var data = await netconf.GetConfigAsync(DatastoreName.Running, cancellationToken: cancellationToken);
            await netconf.CloseSessionAsync(cancellationToken);
            probe.Report(device.Id, new ProbeResult(device.State, true, [.. netconf.ServerCapabilities.All], data.ToString()));
            return new PreconfigurationOutcome(device.State, true, "get-config on running");
        }
        catch (Exception ex) when (ex is NetconfException or SshProtocolException or IOException or InvalidOperationException)
        {
            probe.Report(device.Id, new ProbeResult(device.State, false, [], ex.Message));
            return new PreconfigurationOutcome(device.State, false, ex.Message);
        }
    }
}

/// <summary>Debian's yuma123 netconfd, the NETCONF server behind each test device's sshd "netconf" subsystem.</summary>
public sealed class NetconfdServer : IDisposable
{
    private readonly Process _netconfd;

    public NetconfdServer()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("callhome-netconfd-").FullName;
        var start = new ProcessStartInfo("/usr/sbin/netconfd") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Directory };
        foreach (var a in new[] { "--no-startup", "--superuser=" + Environment.UserName, $"--ncxserver-sockname={Socket}", $"--home={Directory}", $"--log={Directory}/log", "--log-level=info" })
            start.ArgumentList.Add(a);
        _netconfd = Process.Start(start)!;
        _ = _netconfd.StandardOutput.ReadToEndAsync();
        _ = _netconfd.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(Socket) && DateTime.UtcNow < deadline && !_netconfd.HasExited)
            Thread.Sleep(100);
        if (!File.Exists(Socket))
            throw new InvalidOperationException("netconfd did not open its socket: " + (File.Exists($"{Directory}/log") ? File.ReadAllText($"{Directory}/log") : ""));
    }

    public string Directory { get; }

    public string Socket => Path.Combine(Directory, "ncx.sock");

    public void Dispose()
    {
        if (!_netconfd.HasExited)
            _netconfd.Kill();
        _netconfd.WaitForExit(10_000);
        _netconfd.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>
/// A device that calls home, played by OpenSSH: <c>socat</c> dials the NMS call-home port and runs <c>sshd -i</c> on the
/// connection (the device is the SSH server, RFC 8071), optionally after writing a Juniper outbound-ssh preamble. sshd
/// authorizes the NMS client key and serves the "netconf" subsystem with yuma123's netconf-subsystem and netconfd.
/// </summary>
public sealed class SshdDevice : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("callhome-device-").FullName;
    private readonly List<Process> _processes = [];

    public SshdDevice(SshHostKey hostKey, INmsCallHomeIdentity nms, NetconfdServer netconfd)
    {
        HostKey = hostKey;
        var keyPath = Path.Combine(_directory, "host_key");
        File.WriteAllText(keyPath, hostKey.ToOpenSshPrivateKey());
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(_directory, "authorized_keys"), nms.PublicKeyLine + "\n");
        // sshd -i on a socketpair reports SSH_CONNECTION "UNKNOWN 65535 ..."; netconf-subsystem picks netconfd's socket by
        // the server port in it, so the wrapper names the port the socket is registered for.
        var subsystem = Path.Combine(_directory, "netconf-subsystem.sh");
        File.WriteAllText(subsystem,
            $"#!/bin/sh\nSSH_CONNECTION='127.0.0.1 40000 127.0.0.1 830' exec /usr/sbin/netconf-subsystem --ncxserver-sockname=830@{netconfd.Socket}\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(subsystem, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(ConfigPath, string.Join('\n',
            "HostKey " + keyPath,
            "AuthorizedKeysFile " + Path.Combine(_directory, "authorized_keys"),
            "StrictModes no",
            "UsePAM no",
            // sshd runs commands through the user's login shell. A .bashrc that rehashes pyenv (this machine's image) waits 60 s
            // on a lock a killed shell left behind, far past our timeouts; 0 makes it give up at once.
            "SetEnv PYENV_REHASH_TIMEOUT=0",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "PidFile none",
            "LogLevel VERBOSE",
            "Subsystem netconf " + subsystem) + "\n");
        try
        {
            // sshd's privilege separation directory; only root can (and needs to) create it.
            Directory.CreateDirectory("/run/sshd");
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public SshHostKey HostKey { get; }

    private string ConfigPath => Path.Combine(_directory, "sshd_config");

    /// <summary>sshd's and socat's stderr of every call so far.</summary>
    public StringBuilder Log { get; } = new();

    /// <summary>The device's IDevID private key as its SSH host key (a device that calls home with its certificate's key).</summary>
    public static SshHostKey IdevidHostKey(X509Certificate2 certificate)
    {
        using var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("an ECDSA IDevID with its private key", nameof(certificate));
        return SshHostKey.ParseOpenSshPrivateKey(key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>The 5-line outbound-ssh preamble Junos writes, HMAC keyed with the given secret (bootstrap's, or a wrong one).</summary>
    public string Preamble(string deviceId, string? secret)
    {
        var text = $"MSG-ID: DEVICE-CONN-INFO\r\nMSG-VER: V1\r\nDEVICE-ID: {deviceId}\r\n";
        if (secret is not null)
        {
            var hostKey = HostKey.PublicKey.ToAuthorizedKeysLine();
            var hmac = Convert.ToHexStringLower(Hmac(hostKey, secret));
            text += $"HOST-KEY: {hostKey}\r\nHMAC: {hmac}\r\n";
        }

        return text;
    }

    private static byte[] Hmac(string hostKey, string secret) =>
        Onboarding.Netconf.OutboundSsh.OutboundSshPreamble.ComputeHmac(hostKey, Encoding.ASCII.GetBytes(secret));

    /// <summary>Dials the NMS once (socat + sshd -i); the process ends when the NMS or the device closes the connection.</summary>
    public Process CallHome(int port, string? preamble = null)
    {
        var sshd = $"/usr/sbin/sshd -i -e -f {ConfigPath}";
        string exec;
        if (preamble is null)
        {
            exec = $"EXEC:{sshd}";
        }
        else
        {
            var preamblePath = Path.Combine(_directory, $"preamble-{Guid.NewGuid():N}");
            File.WriteAllText(preamblePath, preamble);
            exec = $"SYSTEM:cat {preamblePath}; exec {sshd}";
        }

        var start = new ProcessStartInfo("socat") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add($"TCP:127.0.0.1:{port}");
        start.ArgumentList.Add(exec);
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) =>
        {
            lock (Log)
                Log.AppendLine(e.Data);
        };
        process.BeginErrorReadLine();
        _ = process.StandardOutput.ReadToEndAsync();
        lock (_processes)
            _processes.Add(process);
        return process;
    }

    public void Dispose()
    {
        lock (_processes)
        {
            foreach (var process in _processes)
            {
                if (!process.HasExited)
                    process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
                process.Dispose();
            }
        }

        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>What the call-home tests share: devices taken through bookkeeping and (optionally) bootstrap with pinned host keys.</summary>
public abstract class CallHomeRig(CallHomeFactory factory) : NmsBootstrapRig(factory)
{
    protected new CallHomeFactory Factory => (CallHomeFactory)base.Factory;

    protected INmsCallHomeIdentity Nms => Factory.Services.GetRequiredService<INmsCallHomeIdentity>();

    /// <summary>Bookkeeps the device, bootstraps it and pins <paramref name="hostKey"/> with bootstrap-complete, as a device does.</summary>
    protected async Task<DeviceDetails> BootstrapAsync(ManufacturerSetup setup, string serial, SshHostKey hostKey, X509Certificate2? certificate = null)
    {
        var idevid = certificate ?? setup.Ca.IssueDevice(serial);
        var bookkept = await BookkeepAsync(setup, serial, idevid);
        using var device = Device(idevid);
        var answer = await device.PostAsync("get-bootstrapping-data", "");
        Assert.True(answer.Status == 200, answer.Body);
        var report = "{\"ietf-sztp-bootstrap-server:input\":{\"progress-type\":\"bootstrap-complete\",\"ssh-host-keys\":{\"ssh-host-key\":[" +
            $"{{\"algorithm\":\"{hostKey.PublicKey.KeyType}\",\"key-data\":\"{Convert.ToBase64String(hostKey.PublicKey.Blob)}\"}}" + "]}}}";
        var complete = await device.PostAsync("report-progress", report);
        Assert.True(complete.Status == 204, complete.Body);
        return bookkept;
    }

    /// <summary>Waits (bounded) until the device's timeline has a step matching <paramref name="match"/>.</summary>
    protected async Task<DeviceTimeline> WaitForStepAsync(ManufacturerSetup setup, DeviceId id, Func<TimelineEntry, bool> match, SshdDevice? device = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var timeline = await TimelineAsync(setup, id);
            if (timeline.Steps.Any(match))
                return timeline;
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("no such step; timeline: " + string.Join(" | ", timeline.Steps.Select(s => $"{s.State} {s.Detail}"))
                    + "\nhost log: " + string.Join("\n", Factory.Logs.RenderedMessages.Where(m => m.Contains("all home", StringComparison.Ordinal)))
                    + "\ndevice log: " + device?.Log);
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The probe's result for the device; when none comes, the timeout names sshd's and socat's side too.</summary>
    protected async Task<ProbeResult> ProbeAsync(DeviceId id, SshdDevice device)
    {
        try
        {
            return await Factory.Probe.ResultAsync(id);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + "\ndevice log: " + device.Log, e);
        }
    }

    /// <summary>Waits (bounded) until the host logged a message containing <paramref name="text"/>.</summary>
    protected async Task<string> WaitForLogAsync(string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            // Serilog renders string values in quotes; the tests look for the text without them.
            var found = Factory.Logs.RenderedMessages.Select(m => m.Replace("\"", "", StringComparison.Ordinal))
                .FirstOrDefault(m => m.Contains(text, StringComparison.Ordinal));
            if (found is not null)
                return found;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no log line with '{text}'; call-home log: " + string.Join("\n", Factory.Logs.RenderedMessages.Where(m => m.Contains("all home", StringComparison.Ordinal))));
            await Task.Delay(200);
        }
    }

    protected static async Task ExitsAsync(Process process) => await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
}
