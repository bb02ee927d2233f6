using System.Security.Cryptography;
using System.Text;
using Onboarding.Ssh.Auth;
using Onboarding.Ssh.KeyExchange;
using Onboarding.Ssh.Keys;
using Onboarding.Ssh.Transport;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Tests;

public class BehaviourTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static byte[] Message(Action<SshWriter> write)
    {
        using var w = new SshWriter();
        write(w);
        return w.ToArray();
    }

    private static TransportSettings RawClientSettings(bool strict = true) => new()
    {
        IsServer = false,
        Version = "SSH-2.0-Raw_Test",
        KeyExchange = [SshAlgorithms.Curve25519Sha256],
        Ciphers = [SshAlgorithms.Aes128Gcm],
        Macs = SshAlgorithms.Macs,
        HostKeyAlgorithms = SshAlgorithms.ClientHostKeys,
        HostKeyVerifier = (_, _) => ValueTask.FromResult(true),
        OfferStrictKex = strict,
    };

    /// <summary>A transport-level client that the test drives message by message against a real server session.</summary>
    private static async Task<(SshTransport Raw, Task<SshServerSession> Server)> RawClientAsync(SshServerOptions options, bool strict = true)
    {
        var (c, s) = await LoopbackPair.CreateAsync();
        var server = SshServerSession.AcceptAsync(s, options);
        var raw = new SshTransport(c, RawClientSettings(strict));
        await raw.StartAsync(default).WaitAsync(Timeout);
        await raw.SendAsync(Message(w => new ServiceRequestMessage(ServiceRequestMessage.RequestNumber, "ssh-userauth").Write(w)), default);
        Assert.Equal(ServiceRequestMessage.AcceptNumber, (await raw.ReceiveAsync(default).AsTask().WaitAsync(Timeout))[0]);
        return (raw, server);
    }

    private static byte[] PasswordRequest(string user, string password) => Message(w => new UserAuthRequestMessage
    {
        UserName = user, ServiceName = "ssh-connection", Method = "password", Password = password,
    }.Write(w));

    [Fact]
    public async Task Rekey_in_the_middle_of_a_64_MiB_transfer_keeps_the_data_intact()
    {
        var total = 64 * 1024 * 1024;
        var received = new TaskCompletionSource<(long Count, string Hash)>();
        var serverOptions = new SshServerOptions
        {
            HostKeys = [SessionPair.HostKeyFor(SshAlgorithms.Ed25519)],
            PasswordAuthenticator = (r, _) => ValueTask.FromResult(r.Password == "secret"),
            RekeyBytes = 24 * 1024 * 1024,
            ChannelRequestHandler = (req, ct) =>
            {
                _ = Task.Run(async () =>
                {
                    await req.ReplySent;
                    using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    var buffer = new byte[64 * 1024];
                    long count = 0;
                    int n;
                    while ((n = await req.Channel.ReadAsync(buffer)) > 0)
                    {
                        sha.AppendData(buffer, 0, n);
                        count += n;
                    }
                    received.SetResult((count, Convert.ToHexString(sha.GetHashAndReset())));
                    await req.Channel.SendExitStatusAsync(0);
                    await req.Channel.CloseAsync();
                }, CancellationToken.None);
                return ValueTask.FromResult(true);
            },
        };
        var clientOptions = new SshClientOptions
        {
            UserName = "u",
            Password = "secret",
            HostKeyVerifier = (_, _) => ValueTask.FromResult(true),
            RekeyBytes = 16 * 1024 * 1024,
        };
        var (client, server) = await SessionPair.ConnectAsync(serverOptions, clientOptions);
        await using (client)
        await using (server)
        {
            var channel = await client.OpenSessionAsync();
            Assert.True(await channel.ExecAsync("sink"));
            var data = new byte[1024 * 1024];
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            for (var i = 0; i < total / data.Length; i++)
            {
                RandomNumberGenerator.Fill(data);
                sha.AppendData(data);
                await channel.WriteAsync(data);
            }
            await channel.SendEofAsync();
            var (count, hash) = await received.Task.WaitAsync(TimeSpan.FromSeconds(120));
            Assert.Equal(total, count);
            Assert.Equal(Convert.ToHexString(sha.GetHashAndReset()), hash);
            Assert.Equal(0u, await channel.ExitStatus.WaitAsync(Timeout));
            // 64 MiB at a 16 MiB limit: at least three key exchanges after the first.
            Assert.True(client.Transport.KeyExchangeCount >= 4, $"only {client.Transport.KeyExchangeCount} key exchanges");
        }
    }

    [Fact]
    public async Task Ignore_message_during_strict_first_key_exchange_disconnects()
    {
        var (c, s) = await LoopbackPair.CreateAsync();
        var server = SshServerSession.AcceptAsync(s, SessionPair.ServerOptions(SessionPair.HostKeyFor(SshAlgorithms.Ed25519)));
        var raw = new BinaryPacketStream(c);
        await raw.WriteLineAsync("SSH-2.0-Terrapin_Test", default);
        Assert.StartsWith("SSH-2.0-", await raw.ReadLineAsync(default), StringComparison.Ordinal);
        Assert.Equal(KexInitMessage.Number, (await raw.ReadPacketAsync(default))[0]);
        await raw.WritePacketAsync(Message(w => new KexInitMessage
        {
            KexAlgorithms = [SshAlgorithms.Curve25519Sha256, SshTransport.StrictKexClient],
            ServerHostKeyAlgorithms = [SshAlgorithms.Ed25519],
            EncryptionClientToServer = [SshAlgorithms.Aes128Gcm],
            EncryptionServerToClient = [SshAlgorithms.Aes128Gcm],
            MacClientToServer = SshAlgorithms.Macs.ToArray(),
            MacServerToClient = SshAlgorithms.Macs.ToArray(),
        }.Write(w)), default);
        await raw.WritePacketAsync(new byte[] { SshMessageNumbers.Ignore, 0, 0, 0, 0 }, default);
        var reply = await raw.ReadPacketAsync(default).AsTask().WaitAsync(Timeout);
        Assert.Equal(DisconnectMessage.Number, reply[0]);
        var r = new SshReader(reply);
        Assert.Equal(SshDisconnectReason.ProtocolError, DisconnectMessage.Read(ref r).Reason);
        var e = await Assert.ThrowsAsync<SshProtocolException>(() => server.WaitAsync(Timeout));
        Assert.Equal(SshDisconnectReason.ProtocolError, e.Reason);
    }

    [Fact]
    public async Task A_packet_before_kexinit_is_refused()
    {
        var (c, s) = await LoopbackPair.CreateAsync();
        var server = SshServerSession.AcceptAsync(s, SessionPair.ServerOptions(SessionPair.HostKeyFor(SshAlgorithms.Ed25519)));
        var raw = new BinaryPacketStream(c);
        await raw.WriteLineAsync("SSH-2.0-Terrapin_Test", default);
        await raw.ReadLineAsync(default);
        await raw.WritePacketAsync(new byte[] { SshMessageNumbers.Ignore, 0, 0, 0, 0 }, default);
        await Assert.ThrowsAsync<SshProtocolException>(() => server.WaitAsync(Timeout));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Strict_kex_resets_sequence_numbers_at_newkeys(bool strict)
    {
        using var key = SshHostKey.GenerateEd25519();
        var (c, s) = await LoopbackPair.CreateAsync();
        var clientSettings = RawClientSettings(strict);
        await using var client = new SshTransport(c, clientSettings);
        await using var server = new SshTransport(s, TransportPairTests.Server(key, SshAlgorithms.Curve25519Sha256, SshAlgorithms.Aes128Gcm));
        await Task.WhenAll(client.StartAsync(default), server.StartAsync(default)).WaitAsync(Timeout);
        Assert.Equal(strict, client.StrictKex);
        Assert.Equal(strict, server.StrictKex);
        // Client sent KEXINIT, ECDH_INIT, NEWKEYS; server additionally EXT_INFO after NEWKEYS.
        Assert.Equal(strict ? 0u : 3u, client.Packets.WriteSequence);
        Assert.Equal(strict ? 1u : 4u, server.Packets.WriteSequence);
        Assert.Equal(strict ? 0u : 3u, server.Packets.ReadSequence);
        // A rekey resets them again under strict KEX.
        await client.SendAsync(new byte[] { 50 }, default);
        await server.ReceiveAsync(default);
        client.InitiateRekey();
        // Both sides keep reading, as the session loops do; the key exchange runs inside ReceiveAsync.
        var serverLoop = server.ReceiveAsync(default).AsTask();
        var clientLoop = client.ReceiveAsync(default).AsTask();
        await server.SendAsync(new byte[] { 51 }, default).AsTask().WaitAsync(Timeout);
        Assert.Equal(51, (await clientLoop.WaitAsync(Timeout))[0]);
        // 52 may be deferred until the exchange ends; the client keeps reading to finish it.
        clientLoop = client.ReceiveAsync(default).AsTask();
        await client.SendAsync(new byte[] { 52 }, default);
        Assert.Equal(52, (await serverLoop.WaitAsync(Timeout))[0]);
        await server.SendAsync(new byte[] { 53 }, default);
        Assert.Equal(53, (await clientLoop.WaitAsync(Timeout))[0]);
        Assert.Equal(2, client.KeyExchangeCount);
        if (strict)
        {
            // After the second NEWKEYS the client sent only message 52.
            Assert.Equal(1u, client.Packets.WriteSequence);
        }
    }

    [Fact]
    public async Task Wrong_password_fails_and_max_attempts_disconnects()
    {
        var options = SessionPair.ServerOptions(SessionPair.HostKeyFor(SshAlgorithms.Ed25519));
        var limited = new SshServerOptions
        {
            HostKeys = options.HostKeys,
            PasswordAuthenticator = options.PasswordAuthenticator,
            MaxAuthAttempts = 3,
            AuthFailureDelay = TimeSpan.FromMilliseconds(50),
        };
        var (raw, server) = await RawClientAsync(limited);
        await using (raw)
        {
            for (var i = 0; i < 2; i++)
            {
                await raw.SendAsync(PasswordRequest("alice", "wrong"), default);
                var reply = await raw.ReceiveAsync(default).AsTask().WaitAsync(Timeout);
                Assert.Equal(UserAuthFailureMessage.Number, reply[0]);
                var r = new SshReader(reply);
                Assert.Equal(["password"], UserAuthFailureMessage.Read(ref r).Methods);
            }
            await raw.SendAsync(PasswordRequest("alice", "wrong"), default);
            var lost = await Assert.ThrowsAsync<SshConnectionLostException>(() => raw.ReceiveAsync(default).AsTask().WaitAsync(Timeout));
            Assert.Equal(SshDisconnectReason.NoMoreAuthMethodsAvailable, lost.PeerReason);
            await Assert.ThrowsAsync<SshAuthenticationException>(() => server.WaitAsync(Timeout));
        }

        // Through the public client API: a wrong password is a typed authentication error.
        var (c, s) = await LoopbackPair.CreateAsync();
        var serverTask = SshServerSession.AcceptAsync(s, options);
        var clientOptions = new SshClientOptions { UserName = "alice", Password = "nope", HostKeyVerifier = (_, _) => ValueTask.FromResult(true) };
        await Assert.ThrowsAsync<SshAuthenticationException>(() => SshClientSession.ConnectAsync(c, clientOptions).WaitAsync(Timeout));
        await Assert.ThrowsAnyAsync<Exception>(() => serverTask.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Rejected_host_key_aborts_the_connection()
    {
        var (c, s) = await LoopbackPair.CreateAsync();
        var serverTask = SshServerSession.AcceptAsync(s, SessionPair.ServerOptions(SessionPair.HostKeyFor(SshAlgorithms.Ed25519)));
        var clientOptions = new SshClientOptions { UserName = "alice", Password = "secret", HostKeyVerifier = (_, _) => ValueTask.FromResult(false) };
        var e = await Assert.ThrowsAsync<SshProtocolException>(() => SshClientSession.ConnectAsync(c, clientOptions).WaitAsync(Timeout));
        Assert.Equal(SshDisconnectReason.HostKeyNotVerifiable, e.Reason);
        await Assert.ThrowsAnyAsync<Exception>(() => serverTask.WaitAsync(Timeout));
    }

    [Theory]
    [InlineData("ed25519")]
    [InlineData("rsa")]
    [InlineData("ecdsa")]
    public async Task Public_key_authentication_uses_the_callback_and_verifies_the_signature(string kind)
    {
        using var clientKey = kind switch
        {
            "rsa" => SshHostKey.GenerateRsa(2048),
            "ecdsa" => SshHostKey.GenerateEcdsa(384),
            _ => SshHostKey.GenerateEd25519(),
        };
        SshPublicKeyRequest? seen = null;
        var serverOptions = new SshServerOptions
        {
            HostKeys = [SessionPair.HostKeyFor(SshAlgorithms.Ed25519)],
            PublicKeyAuthenticator = (r, _) =>
            {
                seen = r;
                return ValueTask.FromResult(r.Key.Fingerprint == clientKey.PublicKey.Fingerprint);
            },
            ChannelRequestHandler = SessionPair.EchoHandler,
        };
        var clientOptions = new SshClientOptions { UserName = "bob", ClientKey = clientKey, HostKeyVerifier = (_, _) => ValueTask.FromResult(true) };
        var (client, server) = await SessionPair.ConnectAsync(serverOptions, clientOptions);
        await using (client)
        await using (server)
        {
            Assert.True(seen!.SignatureVerified);
            Assert.Equal("bob", server.UserName);
            var (output, _) = await SessionPair.ExecAsync(client, "id", "");
            Assert.Equal("id:", output);
        }
    }

    [Fact]
    public async Task Public_key_query_gets_pk_ok_only_when_the_callback_accepts()
    {
        using var good = SshHostKey.GenerateEd25519();
        using var bad = SshHostKey.GenerateEd25519();
        var options = new SshServerOptions
        {
            HostKeys = [SessionPair.HostKeyFor(SshAlgorithms.Ed25519)],
            PublicKeyAuthenticator = (r, _) => ValueTask.FromResult(r.Key.Fingerprint == good.PublicKey.Fingerprint),
            AuthFailureDelay = TimeSpan.Zero,
        };
        var (raw, server) = await RawClientAsync(options);
        await using (raw)
        {
            byte[] Query(SshHostKey k, string alg) => Message(w => new UserAuthRequestMessage
            {
                UserName = "u", ServiceName = "ssh-connection", Method = "publickey", HasSignature = false, Algorithm = alg, KeyBlob = k.PublicKey.Blob,
            }.Write(w));
            await raw.SendAsync(Query(good, "ssh-ed25519"), default);
            Assert.Equal(UserAuthPkOkMessage.Number, (await raw.ReceiveAsync(default).AsTask().WaitAsync(Timeout))[0]);
            await raw.SendAsync(Query(bad, "ssh-ed25519"), default);
            Assert.Equal(UserAuthFailureMessage.Number, (await raw.ReceiveAsync(default).AsTask().WaitAsync(Timeout))[0]);
            // A forged signature (signed by another key) is refused even though the key is acceptable.
            var signed = UserAuthRequestMessage.SignedData(raw.SessionId, "u", "ssh-connection", "ssh-ed25519", good.PublicKey.Blob);
            await raw.SendAsync(Message(w => new UserAuthRequestMessage
            {
                UserName = "u", ServiceName = "ssh-connection", Method = "publickey", HasSignature = true, Algorithm = "ssh-ed25519",
                KeyBlob = good.PublicKey.Blob, Signature = bad.Sign("ssh-ed25519", signed),
            }.Write(w)), default);
            Assert.Equal(UserAuthFailureMessage.Number, (await raw.ReceiveAsync(default).AsTask().WaitAsync(Timeout))[0]);
            await raw.SendAsync(Message(w => new UserAuthRequestMessage
            {
                UserName = "u", ServiceName = "ssh-connection", Method = "publickey", HasSignature = true, Algorithm = "ssh-ed25519",
                KeyBlob = good.PublicKey.Blob, Signature = good.Sign("ssh-ed25519", signed),
            }.Write(w)), default);
            Assert.Equal(UserAuthSuccessMessage.Number, (await raw.ReceiveAsync(default).AsTask().WaitAsync(Timeout))[0]);
            await using var session = await server.WaitAsync(Timeout);

            // keepalive@openssh.com with want-reply gets REQUEST_FAILURE (RFC 4254 §4).
            await raw.SendAsync(Message(w => new Onboarding.Ssh.Connection.GlobalRequestMessage("keepalive@openssh.com", true).Write(w)), default);
            Assert.Equal(82, (await raw.ReceiveAsync(default).AsTask().WaitAsync(Timeout))[0]);

            // Data for a channel that does not exist ends the session with a protocol error.
            await raw.SendAsync(new byte[] { 94, 0, 0, 0, 9, 0, 0, 0, 1, 65 }, default);
            var lost = await Assert.ThrowsAsync<SshConnectionLostException>(() => raw.ReceiveAsync(default).AsTask().WaitAsync(Timeout));
            Assert.Equal(SshDisconnectReason.ProtocolError, lost.PeerReason);
            var e = await Assert.ThrowsAsync<SshProtocolException>(() => session.Completion.WaitAsync(Timeout));
            Assert.Equal(SshDisconnectReason.ProtocolError, e.Reason);
        }
    }

    [Fact]
    public async Task Slow_reader_blocks_the_sender_and_buffering_stays_within_the_window()
    {
        long written = 0;
        var writerDone = new TaskCompletionSource();
        var serverOptions = new SshServerOptions
        {
            HostKeys = [SessionPair.HostKeyFor(SshAlgorithms.Ed25519)],
            PasswordAuthenticator = (_, _) => ValueTask.FromResult(true),
            ChannelRequestHandler = (req, ct) =>
            {
                _ = Task.Run(async () =>
                {
                    await req.ReplySent;
                    var chunk = new byte[64 * 1024];
                    for (var i = 0; i < 256; i++)
                    {
                        await req.Channel.WriteAsync(chunk);
                        Interlocked.Add(ref written, chunk.Length);
                    }
                    await req.Channel.SendEofAsync();
                    await req.Channel.SendExitStatusAsync(0);
                    await req.Channel.CloseAsync();
                    writerDone.SetResult();
                }, CancellationToken.None);
                return ValueTask.FromResult(true);
            },
        };
        var (client, server) = await SessionPair.ConnectAsync(serverOptions, SessionPair.ClientOptions());
        await using (client)
        await using (server)
        {
            var channel = await client.OpenSessionAsync();
            Assert.True(await channel.ExecAsync("flood"));
            await Task.Delay(1000);
            // The peer may send at most our window before we read anything.
            Assert.False(writerDone.Task.IsCompleted);
            Assert.InRange(Interlocked.Read(ref written), 0, Onboarding.Ssh.Connection.SshConnection.LocalWindowSize);
            var all = await SessionPair.ReadAllAsync(channel).WaitAsync(Timeout);
            Assert.Equal(256 * 64 * 1024, all.Length);
            await writerDone.Task.WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task Pre_banner_lines_are_skipped_and_exposed()
    {
        var (c, s) = await LoopbackPair.CreateAsync();
        // Juniper outbound-ssh: the device (SSH server) announces itself before the SSH version line.
        var preamble = "MSG-ID: DEVICE-CONN-INFO\r\nMSG-VER: V1\r\nDEVICE-ID: router-1\r\nHOST-KEY: ssh-ed25519 AAAA\r\nHMAC: 00ff\r\n";
        await s.WriteAsync(Encoding.ASCII.GetBytes(preamble));
        var serverTask = SshServerSession.AcceptAsync(s, SessionPair.ServerOptions(SessionPair.HostKeyFor(SshAlgorithms.Ed25519)));
        await using var client = await SshClientSession.ConnectAsync(c, SessionPair.ClientOptions()).WaitAsync(Timeout);
        await using var server = await serverTask.WaitAsync(Timeout);
        Assert.Equal(["MSG-ID: DEVICE-CONN-INFO", "MSG-VER: V1", "DEVICE-ID: router-1", "HOST-KEY: ssh-ed25519 AAAA", "HMAC: 00ff"], client.PreBannerLines);
    }

    [Fact]
    public async Task Too_many_or_too_long_pre_banner_lines_are_refused()
    {
        var (c, s) = await LoopbackPair.CreateAsync();
        await s.WriteAsync(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("junk\r\n", 5))));
        var options = new SshClientOptions { UserName = "u", HostKeyVerifier = (_, _) => ValueTask.FromResult(true), MaxPreBannerLines = 3 };
        await Assert.ThrowsAsync<SshProtocolException>(() => SshClientSession.ConnectAsync(c, options).WaitAsync(Timeout));
        await s.DisposeAsync();

        (c, s) = await LoopbackPair.CreateAsync();
        await s.WriteAsync(Encoding.ASCII.GetBytes(new string('x', 2100) + "\r\n"));
        await Assert.ThrowsAsync<SshProtocolException>(() => SshClientSession.ConnectAsync(c, options).WaitAsync(Timeout));
        await s.DisposeAsync();
    }

    [Fact]
    public async Task Garbage_after_the_version_line_is_a_protocol_error_for_the_server()
    {
        var (c, s) = await LoopbackPair.CreateAsync();
        var serverTask = SshServerSession.AcceptAsync(s, SessionPair.ServerOptions(SessionPair.HostKeyFor(SshAlgorithms.Ed25519)));
        await c.WriteAsync(Encoding.ASCII.GetBytes("SSH-2.0-Fuzz\r\n"));
        await c.WriteAsync(new byte[] { 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4 });
        var e = await Assert.ThrowsAsync<SshProtocolException>(() => serverTask.WaitAsync(Timeout));
        Assert.Equal(SshDisconnectReason.ProtocolError, e.Reason);
        await c.DisposeAsync();
    }

    [Fact]
    public async Task Server_refuses_small_rsa_host_keys()
    {
        using var small = SshHostKey.GenerateRsa(2048);
        await Assert.ThrowsAsync<ArgumentException>(() => SshServerSession.AcceptAsync(new MemoryStream(), new SshServerOptions { HostKeys = [small] }));
    }
}
