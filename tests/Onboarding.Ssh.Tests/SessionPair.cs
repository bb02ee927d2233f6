using System.Text;
using Onboarding.Ssh.Connection;
using Onboarding.Ssh.Keys;

namespace Onboarding.Ssh.Tests;

/// <summary>An in-memory (loopback) client/server pair with an exec handler that echoes "command:stdin" and exits with 42.</summary>
internal static class SessionPair
{
    private static readonly Lazy<SshHostKey> Rsa = new(() => SshHostKey.GenerateRsa(3072));
    private static readonly Lazy<SshHostKey> Ed = new(SshHostKey.GenerateEd25519);
    private static readonly Lazy<SshHostKey> Ec256 = new(() => SshHostKey.GenerateEcdsa(256));
    private static readonly Lazy<SshHostKey> Ec384 = new(() => SshHostKey.GenerateEcdsa(384));

    public static SshHostKey HostKeyFor(string algorithm) => algorithm switch
    {
        SshAlgorithms.Ed25519 => Ed.Value,
        SshAlgorithms.RsaSha256 or SshAlgorithms.RsaSha512 => Rsa.Value,
        SshAlgorithms.EcdsaNistp256 => Ec256.Value,
        _ => Ec384.Value,
    };

    public static SshServerOptions ServerOptions(SshHostKey hostKey, Func<SshServerOptions, SshServerOptions>? tweak = null) => new()
    {
        HostKeys = [hostKey],
        PasswordAuthenticator = (r, _) => ValueTask.FromResult(r.UserName == "alice" && r.Password == "secret"),
        ChannelRequestHandler = EchoHandler,
        AuthFailureDelay = TimeSpan.FromMilliseconds(10),
        KeyExchangeAlgorithms = SshAlgorithms.AllKeyExchange,
        Ciphers = SshAlgorithms.AllCiphers,
    };

    public static SshClientOptions ClientOptions() => new()
    {
        UserName = "alice",
        Password = "secret",
        HostKeyVerifier = (_, _) => ValueTask.FromResult(true),
    };

    public static ValueTask<bool> EchoHandler(SshChannelRequest request, CancellationToken ct)
    {
        if (request.RequestType != "exec")
            return ValueTask.FromResult(false);
        _ = Task.Run(async () =>
        {
            await request.ReplySent;
            var channel = request.Channel;
            var input = await ReadAllAsync(channel);
            await channel.WriteAsync(Encoding.UTF8.GetBytes(request.Command + ":" + Encoding.UTF8.GetString(input)));
            await channel.SendEofAsync();
            await channel.SendExitStatusAsync(42);
            await channel.CloseAsync();
        }, CancellationToken.None);
        return ValueTask.FromResult(true);
    }

    public static async Task<byte[]> ReadAllAsync(SshChannel channel)
    {
        using var ms = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await channel.ReadAsync(buffer)) > 0)
            ms.Write(buffer, 0, n);
        return ms.ToArray();
    }

    public static async Task<(SshClientSession Client, SshServerSession Server)> ConnectAsync(SshServerOptions serverOptions, SshClientOptions clientOptions)
    {
        var (c, s) = await LoopbackPair.CreateAsync();
        var server = SshServerSession.AcceptAsync(s, serverOptions);
        var client = SshClientSession.ConnectAsync(c, clientOptions);
        try
        {
            await Task.WhenAll(server, client).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            if (client.IsCompletedSuccessfully)
                await client.Result.DisposeAsync();
            if (server.IsCompletedSuccessfully)
                await server.Result.DisposeAsync();
            throw;
        }
        return (client.Result, server.Result);
    }

    public static async Task<(string Output, uint? Status)> ExecAsync(SshClientSession client, string command, string input)
    {
        var channel = await client.OpenSessionAsync();
        Assert.True(await channel.ExecAsync(command));
        await channel.WriteAsync(Encoding.UTF8.GetBytes(input));
        await channel.SendEofAsync();
        var output = Encoding.UTF8.GetString(await ReadAllAsync(channel));
        var status = await channel.ExitStatus.WaitAsync(TimeSpan.FromSeconds(10));
        await channel.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        return (output, status);
    }
}
