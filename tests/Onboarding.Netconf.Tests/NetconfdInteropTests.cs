using System.Diagnostics;
using System.Xml.Linq;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.Framing;
using Onboarding.Netconf.Messages;

namespace Onboarding.Netconf.Tests;

/// <summary>
/// Our client against a real NETCONF server: Debian's yuma123 <c>netconfd</c>, reached through its
/// <c>netconf-subsystem</c> (what sshd would run for the "netconf" subsystem), whose stdin/stdout are the session's
/// stream. Both framings, candidate + commit, get-config with a subtree filter, and netconfd's own rpc-errors.
/// </summary>
public sealed class NetconfdInteropTests : IDisposable
{
    private static readonly XNamespace Sys = "urn:ietf:params:xml:ns:yang:ietf-system";
    private static readonly string[] UnknownTags = ["unknown-element", "unknown-namespace", "bad-element"];
    private readonly string _dir = Directory.CreateTempSubdirectory("netconfd-").FullName;
    private readonly Process _netconfd;

    public NetconfdInteropTests()
    {
        Assert.True(File.Exists("/usr/sbin/netconfd"), "needs Debian's netconfd (yuma123; test.sh installs it)");
        var start = new ProcessStartInfo("/usr/sbin/netconfd") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        foreach (var a in new[] { "--no-startup", "--superuser=root", $"--ncxserver-sockname={Socket}", $"--home={_dir}", $"--log={_dir}/log", "--log-level=info" })
            start.ArgumentList.Add(a);
        _netconfd = Process.Start(start)!;
        _netconfd.StandardOutput.ReadToEndAsync();
        _netconfd.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(Socket) && DateTime.UtcNow < deadline && !_netconfd.HasExited)
            Thread.Sleep(100);
        Assert.True(File.Exists(Socket), "netconfd did not open its socket: " + (File.Exists($"{_dir}/log") ? File.ReadAllText($"{_dir}/log") : ""));
    }

    private string Socket => Path.Combine(_dir, "ncx.sock");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Our_client_configures_netconfd_through_candidate_and_commit(bool offerBase11)
    {
        using var subsystem = StartSubsystem();
        var stream = new ProcessStdioStream(subsystem);
        var options = new NetconfClientOptions
        {
            Capabilities = offerBase11 ? [NetconfCapabilities.Base10, NetconfCapabilities.Base11] : [NetconfCapabilities.Base10],
        };
        using var session = await NetconfClientSession.ConnectAsync(stream, options).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(offerBase11 ? NetconfFraming.Chunked : NetconfFraming.EndOfMessage, session.Framing);
        Assert.True(session.ServerCapabilities.HasCandidate);
        Assert.True(session.ServerCapabilities.HasValidate);

        var hostname = offerBase11 ? "r11" : "r10";
        await session.LockAsync(DatastoreName.Candidate);
        await session.EditConfigAsync(DatastoreName.Candidate, new XElement(Sys + "system", new XElement(Sys + "hostname", hostname)));
        await session.CommitAsync();
        await session.UnlockAsync(DatastoreName.Candidate);
        var data = await session.GetConfigAsync(DatastoreName.Running, new XElement(Sys + "system", new XElement(Sys + "hostname")));
        Assert.Equal(hostname, data.Descendants(Sys + "hostname").Single().Value);
        // After the commit: netconfd 2.13 turns a commit that follows <validate> into a no-op (seen by hand with raw
        // RPCs), so pre-configuration must not validate first on this server.
        await session.ValidateAsync(DatastoreName.Candidate);

        // netconfd's own rpc-errors: a create of what exists, and an element its YANG does not know.
        var create = await Assert.ThrowsAsync<NetconfRpcException>(() => session.EditConfigAsync(DatastoreName.Candidate,
            new XElement(Sys + "system", new XElement(Sys + "hostname", new XAttribute(NetconfXml.Base + "operation", "create"), "x"))));
        Assert.Equal("data-exists", create.Errors[0].Tag);
        var unknown = await Assert.ThrowsAsync<NetconfRpcException>(() => session.EditConfigAsync(DatastoreName.Candidate,
            new XElement(Sys + "system", new XElement(Sys + "no-such-leaf", "x"))));
        Assert.Equal(RpcErrorSeverity.Error, unknown.Errors[0].Severity);
        Assert.Contains(unknown.Errors[0].Tag, UnknownTags);

        Assert.True((await session.CloseSessionAsync()).IsOk);
        Assert.True(subsystem.WaitForExit(10_000));
    }

    private Process StartSubsystem()
    {
        // netconf-subsystem maps the SSH port in SSH_CONNECTION to a socket: --ncxserver-sockname=<port>@<path>.
        var start = new ProcessStartInfo("/usr/sbin/netconf-subsystem") { RedirectStandardInput = true, RedirectStandardOutput = true };
        start.ArgumentList.Add($"--ncxserver-sockname=830@{Socket}");
        start.Environment["SSH_CONNECTION"] = "127.0.0.1 40000 127.0.0.1 830";
        start.Environment["USER"] = "root";
        return Process.Start(start)!;
    }

    public void Dispose()
    {
        if (!_netconfd.HasExited)
            _netconfd.Kill();
        _netconfd.WaitForExit(10_000);
        _netconfd.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A process's stdout (read) and stdin (write) as one duplex stream, like an SSH subsystem channel.</summary>
    private sealed class ProcessStdioStream(Process process) : Stream
    {
        private readonly Stream _read = process.StandardOutput.BaseStream;
        private readonly Stream _write = process.StandardInput.BaseStream;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => _write.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _write.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => _read.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _read.ReadAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => _write.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _write.WriteAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
