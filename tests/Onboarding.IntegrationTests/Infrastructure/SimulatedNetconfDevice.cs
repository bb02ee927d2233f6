using System.Net;
using System.Net.Sockets;
using System.Xml.Linq;
using Onboarding.Netconf;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.Messages;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// A device played in process: our SSH server on a loopback socket with a "netconf" subsystem answered by
/// <see cref="NetconfServerSession"/> over an <see cref="InMemoryDatastore"/>. The NMS side connects with our SSH client,
/// as call home would over the device's connection. Every RPC the device receives is recorded by name.
/// </summary>
public sealed class SimulatedNetconfDevice : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly SshHostKey _hostKey = SshHostKey.GenerateEd25519();
    private readonly List<string> _operations = [];
    private readonly Task _serve;
    private readonly CancellationTokenSource _stop = new();

    /// <param name="capabilities">What the device announces in its hello (default: base 1.0/1.1 and :candidate).</param>
    /// <param name="store">Its datastore (default: empty).</param>
    /// <param name="intercept">Answers an operation instead of the datastore when it returns non-null (e.g. a device that forgets).</param>
    /// <param name="offersNetconf">False: the device refuses the "netconf" subsystem request.</param>
    public SimulatedNetconfDevice(IReadOnlyList<string>? capabilities = null, InMemoryDatastore? store = null, Func<XElement, XElement?>? intercept = null,
        bool offersNetconf = true)
    {
        Store = store ?? new InMemoryDatastore();
        _listener.Start();
        var options = new NetconfServerOptions { SessionId = 7, Capabilities = capabilities ?? new NetconfServerOptions().Capabilities };
        _serve = Task.Run(async () =>
        {
            using var socket = await _listener.AcceptSocketAsync(_stop.Token);
            var server = await SshServerSession.AcceptAsync(new NetworkStream(socket, ownsSocket: false), new SshServerOptions
            {
                HostKeys = [_hostKey],
                PasswordAuthenticator = (r, _) => ValueTask.FromResult(r.UserName == "nms" && r.Password == "call-home"),
                ChannelRequestHandler = (request, requestCancellation) =>
                {
                    if (!offersNetconf || request.RequestType != "subsystem" || request.Subsystem != "netconf")
                        return ValueTask.FromResult(false);
                    _ = Task.Run(async () =>
                    {
                        await request.ReplySent;
                        try
                        {
                            await using var stream = request.Channel.AsStream();
                            await NetconfServerSession.RunAsync(stream, options, (rpc, ct) =>
                            {
                                lock (_operations)
                                    _operations.Add(rpc.Operation.Name.LocalName);
                                return intercept?.Invoke(rpc.Operation) is { } answer ? ValueTask.FromResult<XElement?>(answer) : Store.HandleRpcAsync(rpc, ct);
                            });
                        }
                        catch (Exception e) when (e is NetconfException or SshConnectionLostException or IOException)
                        {
                            // The NMS went away; the device does not care.
                        }
                        finally
                        {
                            Store.ReleaseLocks(options.SessionId);
                            await request.Channel.CloseAsync();
                        }
                    }, CancellationToken.None);
                    return ValueTask.FromResult(true);
                },
            });
            await server.Completion;
        }, CancellationToken.None);
    }

    public InMemoryDatastore Store { get; }

    public IReadOnlyList<string> Operations
    {
        get
        {
            lock (_operations)
                return [.. _operations];
        }
    }

    /// <summary>The NMS's SSH client session to this device.</summary>
    public async Task<SshClientSession> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port);
        return await SshClientSession.ConnectAsync(new NetworkStream(socket, ownsSocket: true), new SshClientOptions
        {
            UserName = "nms",
            Password = "call-home",
            HostKeyVerifier = (context, _) => ValueTask.FromResult(context.HostKey.Equals(_hostKey.PublicKey)),
        }).WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _serve.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is OperationCanceledException or SshConnectionLostException or SocketException or TimeoutException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
        _hostKey.Dispose();
    }
}
